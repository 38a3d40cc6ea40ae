// The agent type (the graph it runs) and what it needs: a chain's steps, a supervisor's
// sub-agents (inline or another agent), a RAG agent's query rewrites.
import { html } from '../../lib/ui.js';
import { Item, NumberInput, Section, Select, TextArea, TextInput, changedAt, removedAt } from './controls.js';
import { ProblemList, sectionProblems } from './problems.js';

const TYPES = [
  ['simple', 'Simple: one model call (a tool loop with tools)'],
  ['chain', 'Chain: steps in order'],
  ['multi_agent', 'Multi-agent: a supervisor routing to sub-agents'],
  ['rag', 'Adaptive RAG: retrieval from knowledge bases'],
];
const LEAF = /^settings\.(agent_type|max_query_rewrites|steps\.\d+\.(name|prompt|model_id)|sub_agents\.\d+\.(name|description|system_prompt|model_id|agent_id))$/;

function Steps({ steps, set, problems }) {
  const at = (index, key) => problems[`settings.steps.${index}.${key}`];
  const change = (index, change) => set('steps', changedAt(steps, index, change));
  return html`<div class="agent-subpanel">
    <h3>Steps</h3>
    ${!steps.length && html`<p class="hint">A chain needs at least one step.</p>`}
    ${steps.map((step, index) => html`<${Item} key=${index} label=${`Step ${index + 1}`}
        onRemove=${() => set('steps', removedAt(steps, index))}>
      <${TextInput} label="Step name" value=${step.name} onValue=${(value) => change(index, { name: value })} error=${at(index, 'name')}/>
      <${TextArea} label="Step prompt" value=${step.prompt} onValue=${(value) => change(index, { prompt: value })} error=${at(index, 'prompt')}/>
      <${TextInput} label="Step model (optional)" value=${step.model_id} error=${at(index, 'model_id')}
        onValue=${(value) => change(index, { model_id: value.trim() ? value : null })} hint="Another model of the agent's provider."/>
    </${Item}>`)}
    <button type="button" onClick=${() => set('steps', [...steps, { name: '', prompt: '', model_id: null }])}>Add step</button>
  </div>`;
}

function SubAgents({ subAgents, set, problems, agents, selfId }) {
  const at = (index, key) => problems[`settings.sub_agents.${index}.${key}`];
  const change = (index, change) => set('sub_agents', changedAt(subAgents, index, change));
  const replace = (index, item) => set('sub_agents', subAgents.map((old, at2) => (at2 === index ? item : old)));
  const others = (agents || []).filter((agent) => agent.id !== selfId && agent.kind === 'llm');
  const agentOptions = [['', 'Choose an agent'], ...others.map((agent) => [agent.id, `${agent.name} (${agent.id})`])];
  return html`<div class="agent-subpanel">
    <h3>Sub-agents</h3>
    ${!subAgents.length && html`<p class="hint">A supervisor needs at least one sub-agent.</p>`}
    ${subAgents.map((sub, index) => {
      const isAgent = 'agent_id' in sub;
      const kindChanged = (value) => replace(index, value === 'agent'
        ? { name: sub.name, description: sub.description, agent_id: '' }
        : { name: sub.name, description: sub.description, system_prompt: '', model_id: null });
      return html`<${Item} key=${index} label=${`Sub-agent ${index + 1}`}
          onRemove=${() => set('sub_agents', removedAt(subAgents, index))}>
        <${TextInput} label="Sub-agent name" value=${sub.name} onValue=${(value) => change(index, { name: value })}
          error=${at(index, 'name')} hint="What the supervisor routes to: letters, digits, _ and -, starting with a letter."/>
        <${TextInput} label="Description" value=${sub.description} onValue=${(value) => change(index, { description: value })}
          error=${at(index, 'description')}/>
        <${Select} label="Defined" value=${isAgent ? 'agent' : 'inline'} onValue=${kindChanged}
          options=${[['inline', 'Here, with its own prompt'], ['agent', 'Another agent of the organisation']]}/>
        ${isAgent
          ? html`<${Select} label="Agent" value=${sub.agent_id} options=${agentOptions}
              onValue=${(value) => change(index, { agent_id: value })} error=${at(index, 'agent_id')}/>`
          : html`<${TextArea} label="Sub-agent prompt" value=${sub.system_prompt}
              onValue=${(value) => change(index, { system_prompt: value })} error=${at(index, 'system_prompt')}/>
            <${TextInput} label="Sub-agent model (optional)" value=${sub.model_id} error=${at(index, 'model_id')}
              onValue=${(value) => change(index, { model_id: value.trim() ? value : null })}/>`}
      </${Item}>`;
    })}
    <button type="button" onClick=${() => set('sub_agents', [...subAgents, { name: '', description: '', system_prompt: '', model_id: null }])}>
      Add sub-agent</button>
  </div>`;
}

export function TypeSection({ settings, set, problems, agents, selfId }) {
  const type = settings.agent_type || 'simple';
  return html`<${Section} id="type" title="Agent type">
    <${ProblemList} problems=${sectionProblems(problems, 'type', (path) => LEAF.test(path))}/>
    <${Select} label="Agent type" value=${type} options=${TYPES} onValue=${(value) => set('agent_type', value)}
      error=${problems['settings.agent_type']}/>
    ${type === 'chain' && html`<${Steps} steps=${settings.steps || []} set=${set} problems=${problems}/>`}
    ${type === 'multi_agent' && html`<${SubAgents} subAgents=${settings.sub_agents || []} set=${set} problems=${problems}
      agents=${agents} selfId=${selfId}/>`}
    ${type === 'rag' && html`
      <${NumberInput} label="Query rewrites" min="0" max="5" value=${settings.max_query_rewrites}
        onValue=${(value) => set('max_query_rewrites', value)} error=${problems['settings.max_query_rewrites']}
        hint="Times the query is rewritten and searched again when no passage helps (0 to 5)."/>
      <p class="hint">Choose its knowledge bases under Knowledge bases below.</p>`}
  </${Section}>`;
}
