// The agents area: `#/agents` the list, `#/agents/new` a new agent, `#/agents/<id>` its editor.
import { html } from '../../lib/ui.js';
import { AgentList } from './list.js';
import { AgentEditor } from './editor.js';

export default function AgentsPage({ route }) {
  const [, id] = route.parts;
  if (!id) return html`<${AgentList}/>`;
  if (id === 'new') return html`<${AgentEditor} key="new" agentId=${null}/>`;
  return html`<${AgentEditor} key=${id} agentId=${id}/>`;
}
