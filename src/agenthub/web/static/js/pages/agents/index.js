// The agents area: `#/agents` the list, `#/agents/+new` a new agent, `#/agents/<id>` its editor
// (an id never holds `+` (AGENT_ID_PATTERN), so an agent whose id is `new` opens too).
import { html } from '../../lib/ui.js';
import { AgentList } from './list.js';
import { AgentEditor } from './editor.js';
import { NEW_AGENT } from './paths.js';

export default function AgentsPage({ route }) {
  const [, id] = route.parts;
  if (!id) return html`<${AgentList}/>`;
  if (id === NEW_AGENT) return html`<${AgentEditor} key="new" agentId=${null}/>`;
  return html`<${AgentEditor} key=${id} agentId=${id}/>`;
}
