// Basics (name, id, kind, where it runs) and the system prompt.
import { html } from '../../lib/ui.js';
import { ProblemList, sectionProblems } from './problems.js';
import { Section, Select, TextArea, TextInput } from './controls.js';

const ISOLATION = [['shared', 'Shared: with other agents'], ['process', 'Process: a runner of its own']];
const LEAVES = new Set(['id', 'name', 'settings.isolation']);

export function BasicsSection({ isNew, kind, name, setName, agentId, setAgentId, settings, set, problems }) {
  return html`<${Section} id="basics" title="Basics">
    <${ProblemList} problems=${sectionProblems(problems, 'basics', (path) => LEAVES.has(path))}/>
    <${TextInput} label="Name" value=${name} onValue=${setName} required maxlength="200" error=${problems.name}/>
    ${isNew
      ? html`<${TextInput} label="Id (optional)" value=${agentId} onValue=${setAgentId} error=${problems.id}
          hint="Lower-case letters, digits, - and _ (2 to 64); left empty, one is made. It can't change later."/>`
      : html`<p class="agent-fixed"><span>Id</span> <code>${agentId}</code> <span>Kind</span> <code>${kind}</code></p>`}
    <${Select} label="Where it runs" value=${settings.isolation || 'shared'} options=${ISOLATION}
      onValue=${(value) => set('isolation', value)} error=${problems['settings.isolation']}/>
  </${Section}>`;
}

export function PromptSection({ settings, set, problems }) {
  return html`<${Section} id="prompt" title="Prompt">
    <${TextArea} label="System prompt" rows="8" value=${settings.system_prompt} onValue=${(value) => set('system_prompt', value)}
      error=${problems['settings.system_prompt']} hint="What the agent is and how it answers; sent before every conversation."/>
  </${Section}>`;
}
