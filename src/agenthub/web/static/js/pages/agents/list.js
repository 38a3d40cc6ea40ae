// The organisation's agents, each with its live status, its lifecycle buttons, a link to chat
// with it and Delete (asked twice).
import { html, useEffect, useRef, useState } from '../../lib/ui.js';
import { api } from '../../lib/api.js';
import { href } from '../../lib/router.js';
import { NEW_AGENT, agentPath } from './paths.js';
import { LifecycleButtons, StatusBadge, listPollMs, useAgentStatus } from './lifecycle.js';

const PAGE = 100;

function DeleteButton({ agent, onDeleted }) {
  const [asking, setAsking] = useState(false);
  const [problem, setProblem] = useState(null);
  const cancel = useRef(null);
  const ask = useRef(null);
  const asked = useRef(false);
  useEffect(() => {
    if (asking) cancel.current?.focus();
    else if (asked.current) ask.current?.focus();
    asked.current = asking;
  }, [asking]);
  const remove = async () => {
    setProblem(null);
    try {
      await api.del(agentPath(agent.id));
      onDeleted();
    } catch (error) {
      setProblem(error.message);
    }
  };
  if (!asking) {
    return html`<button type="button" class="danger" aria-label=${`Delete ${agent.name}`} ref=${ask}
      onClick=${() => setAsking(true)}>Delete</button>`;
  }
  return html`<span class="agent-confirm" role="group" aria-label=${`Delete ${agent.name}?`}>
    <span>Delete ${agent.name}? Its chats go with it.</span>
    <button type="button" class="danger" onClick=${remove}>Yes, delete</button>
    <button type="button" ref=${cancel} onClick=${() => setAsking(false)}>Cancel</button>
    ${problem && html`<span class="field-error" role="alert">${problem}</span>`}
  </span>`;
}

function AgentRow({ agent: listed, label, onDeleted, pollMs }) {
  // Controls are named by `label`: the name, with the id when another agent has the same name.
  const agent = { ...listed, name: label };
  const [status, refresh] = useAgentStatus(agent.id, pollMs);
  return html`<li class="agent-row card">
    <div class="agent-row-head">
      <a class="agent-name" href=${href(`agents/${encodeURIComponent(agent.id)}`)}>${listed.name}</a>
      <code class="agent-id">${agent.id}</code>
      <span class="badge agent-kind">${agent.kind}</span>
      <span aria-live="polite"><${StatusBadge} status=${status}/></span>
    </div>
    ${status?.status === 'error' && status.error && html`<p class="field-error">${status.error}</p>`}
    <div class="agent-row-actions">
      <${LifecycleButtons} agentId=${agent.id} name=${agent.name} status=${status} onDone=${refresh}/>
      <a class="button" href=${href(`chat/${encodeURIComponent(agent.id)}`)} aria-label=${`Chat with ${agent.name}`}>Chat</a>
      <a class="button" href=${href(`agents/${encodeURIComponent(agent.id)}`)} aria-label=${`Edit ${agent.name}`}>Edit</a>
      <${DeleteButton} agent=${agent} onDeleted=${onDeleted}/>
    </div>
  </li>`;
}

export function AgentList() {
  const [list, setList] = useState(null);
  const [error, setError] = useState(null);
  const load = async () => {
    setError(null);
    try {
      setList(await api.get('api/v1/agents', { query: { limit: PAGE } }));
    } catch (failure) {
      setError(failure);
    }
  };
  useEffect(() => { load(); }, []);

  let body;
  if (error) {
    body = html`<div class="form-error" role="alert">The agents could not be loaded: ${error.message}
      <button type="button" onClick=${load}>Try again</button></div>`;
  } else if (!list) {
    body = html`<p class="loading" role="status">Loading agents…</p>`;
  } else if (!list.items.length) {
    body = html`<div class="card agents-empty"><p>No agents yet.</p>
      <a class="button primary" href=${href(`agents/${NEW_AGENT}`)}>Create your first agent</a></div>`;
  } else {
    const counts = {};
    for (const agent of list.items) counts[agent.name] = (counts[agent.name] || 0) + 1;
    const labelOf = (agent) => (counts[agent.name] > 1 ? `${agent.name} (${agent.id})` : agent.name);
    body = html`<ul class="agent-list" aria-label="Agents">
      ${list.items.map((agent) => html`<${AgentRow} key=${agent.id} agent=${agent} label=${labelOf(agent)} onDeleted=${load}
        pollMs=${listPollMs(list.items.length)}/>`)}
    </ul>
    ${list.total > list.items.length && html`<p class="hint">Showing ${list.items.length} of ${list.total} agents.</p>`}`;
  }
  return html`<section class="agents">
    <div class="agents-head">
      <h1>Agents</h1>
      <a class="button primary" href=${href(`agents/${NEW_AGENT}`)}>New agent</a>
    </div>
    ${body}
  </section>`;
}
