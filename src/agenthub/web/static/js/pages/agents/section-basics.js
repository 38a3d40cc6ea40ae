// Basics (name, id, kind, where it runs) and the system prompt.
import { html, useEffect, useState } from '../../lib/ui.js';
import { api } from '../../lib/api.js';
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

/** Start from a role (GET /api/v1/roles): its prompt, agent type and tools. */
function RolePicker({ set }) {
  const [roles, setRoles] = useState(null);
  const [problem, setProblem] = useState(null);
  useEffect(() => { api.get('api/v1/roles').then(setRoles, () => setRoles([])); }, []);
  if (!roles || !roles.length) return null;
  const choose = async (event) => {
    const name = event.currentTarget.value;
    event.currentTarget.value = '';
    if (!name) return;
    setProblem(null);
    try {
      const role = await api.get(`api/v1/roles/${encodeURIComponent(name)}`);
      set('system_prompt', role.prompt);
      set('agent_type', role.agent_type || 'simple');
      set('tools', role.tools || []);
    } catch (error) {
      setProblem(error.message);
    }
  };
  return html`<div class="agent-inline">
    <${Select} label="Start from a role" value="" onValue=${() => {}} onChange=${choose}
      options=${[['', 'Choose a role…'], ...roles.map((role) => [role.name, `${role.name}: ${role.description}`])]}
      hint="Fills the prompt, agent type and tools from the role; change them as you like."
      error=${problem}/>
  </div>`;
}

export function PromptSection({ settings, set, problems }) {
  return html`<${Section} id="prompt" title="Prompt">
    <${RolePicker} set=${set}/>
    <${TextArea} label="System prompt" rows="8" value=${settings.system_prompt} onValue=${(value) => set('system_prompt', value)}
      error=${problems['settings.system_prompt']} hint="What the agent is and how it answers; sent before every conversation."/>
  </${Section}>`;
}
