// Long-term memory: the core blocks each user starts with (settings.memory_blocks) and the
// context budget, in the agent's settings; and a user's own blocks as they are now
// (GET/PUT /api/v1/agents/{id}/memory), saved on their own.
import { html, useEffect, useState } from '../../lib/ui.js';
import { api } from '../../lib/api.js';
import { Field } from '../../lib/forms.js';
import { useMe, isAdmin } from '../../lib/session.js';
import { Checkbox, Item, NumberInput, Section, TextArea, TextInput, changedAt, removedAt } from './controls.js';
import { ProblemList, problemsOf, sectionProblems } from './problems.js';
import { agentPath } from './paths.js';

const LEAF = /^settings\.(context_budget_tokens|memory_blocks\.\d+\.(label|value|limit))$/;
const DEFAULT_BLOCKS = [{ label: 'persona', value: '', limit: 2000 }, { label: 'human', value: '', limit: 2000 }];

export function MemorySettingsSection({ settings, set, problems }) {
  const blocks = settings.memory_blocks;
  const at = (index, key) => problems[`settings.memory_blocks.${index}.${key}`];
  const change = (index, change) => set('memory_blocks', changedAt(blocks, index, change));
  return html`<${Section} id="memory" title="Memory"
      hint="Memory is on when the agent has a memory tool (Tools). Each user starts with these core blocks.">
    <${ProblemList} problems=${sectionProblems(problems, 'memory', (path) => LEAF.test(path))}/>
    <${Checkbox} label="Custom starting blocks" checked=${Array.isArray(blocks)}
      hint="Off: persona and human, empty, 2000 characters each."
      onValue=${(on) => set('memory_blocks', on ? DEFAULT_BLOCKS.map((block) => ({ ...block })) : null)}/>
    ${Array.isArray(blocks) && html`
      ${blocks.map((block, index) => html`<${Item} key=${index} label=${`Starting block ${block.label || index + 1}`}
          onRemove=${() => set('memory_blocks', removedAt(blocks, index))}>
        <div class="agent-grid">
          <${TextInput} label="Label" value=${block.label} onValue=${(value) => change(index, { label: value })} error=${at(index, 'label')}
            hint="Lower-case letters, digits and _, starting with a letter."/>
          <${NumberInput} label="Limit (characters)" min="1" max="20000" value=${block.limit}
            onValue=${(value) => change(index, { limit: value })} error=${at(index, 'limit')}/>
        </div>
        <${TextArea} label="Starting value" value=${block.value} onValue=${(value) => change(index, { value })} error=${at(index, 'value')}/>
      </${Item}>`)}
      <button type="button" onClick=${() => set('memory_blocks', [...blocks, { label: '', value: '', limit: 2000 }])}>Add block</button>`}
    <${NumberInput} label="Context budget (tokens)" min="500" max="2000000" value=${settings.context_budget_tokens}
      onValue=${(value) => set('context_budget_tokens', value)} error=${problems['settings.context_budget_tokens']}
      hint="With memory on, older turns beyond it are summarised."/>
  </${Section}>`;
}

/** A user's core memory blocks now (the caller's unless an owner or admin names another user). */
export function MemoryPanel({ agentId }) {
  const me = useMe();
  const [userId, setUserId] = useState('');
  const [shownUser, setShownUser] = useState('');
  const [blocks, setBlocks] = useState(null);
  const [loadError, setLoadError] = useState(null);
  const [error, setError] = useState(null);
  const [saved, setSaved] = useState(false);
  const load = async (user) => {
    setLoadError(null);
    setError(null);
    setSaved(false);
    try {
      const answer = await api.get(agentPath(agentId, '/memory'), { query: user ? { user_id: user } : undefined });
      setBlocks(answer.blocks);
      setShownUser(user);
    } catch (failure) {
      setLoadError(failure);
    }
  };
  useEffect(() => { load(''); }, [agentId]);
  const save = async (event) => {
    event.preventDefault();
    setError(null);
    setSaved(false);
    try {
      const answer = await api.put(agentPath(agentId, '/memory'), { blocks },
        { query: shownUser ? { user_id: shownUser } : undefined });
      setBlocks(answer.blocks);
      setSaved(true);
    } catch (failure) {
      setError(failure);
    }
  };
  const problems = problemsOf(error);
  const at = (index, key) => problems[`blocks.${index}.${key}`];
  return html`<form class="card agent-section" onSubmit=${save} aria-labelledby="agent-usermemory-title">
    <h2 id="agent-usermemory-title">Core memory ${shownUser ? html`of <code>${shownUser}</code>` : '(yours)'}</h2>
    <p class="hint">What the agent remembers about a user now; saved on its own (not with the agent).</p>
    ${isAdmin(me) && html`<div class="agent-inline">
      <${Field} label="Another user" value=${userId} placeholder="a user id, or telegram:42"
        onInput=${(event) => setUserId(event.currentTarget.value)}
        onKeyDown=${(event) => { if (event.key === 'Enter') { event.preventDefault(); load(userId.trim()); } }}/>
      <button type="button" onClick=${() => load(userId.trim())}>Show</button>
    </div>`}
    ${loadError && html`<p class="form-error" role="alert">${loadError.message}</p>`}
    ${error && !error.details.some(({ field }) => /^blocks\.\d+\./.test(field || '')) && html`<p class="form-error" role="alert">${error.message}</p>`}
    ${blocks && blocks.map((block, index) => html`<${TextArea} key=${block.label} label=${`Block ${block.label}`}
      value=${block.value} rows="3" error=${at(index, 'value') || at(index, 'limit')}
      hint=${`${block.value.length}/${block.limit} characters`}
      onValue=${(value) => { setSaved(false); setBlocks(changedAt(blocks, index, { value })); }}/>`)}
    ${blocks && html`<div class="agent-actions">
      <button type="submit">Save memory</button>
      ${saved && html`<span class="ok" role="status">Memory saved.</span>`}
    </div>`}
  </form>`;
}
