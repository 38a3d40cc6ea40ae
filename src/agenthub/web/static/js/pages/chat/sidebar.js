// The left column of the chat area: which agent or bot to talk to, and its chats.
import { html, useCallback, useEffect, useMemo, useState } from '../../lib/ui.js';
import { api } from '../../lib/api.js';
import { href, navigate } from '../../lib/router.js';
import { markdownText } from '../../lib/markdown-text.js';

const KIND_GROUPS = [['llm', 'Agents'], ['scenario', 'Bots']];

/** The organisation's agents and bots: {agents, error, reload}. */
export function useAgents() {
  const [found, setFound] = useState({ agents: null, error: null });
  const load = useCallback(() => {
    setFound({ agents: null, error: null });
    api.get('api/v1/agents', { query: { limit: 500 } }).then(
      (answer) => setFound({ agents: answer.items, error: null }),
      (error) => setFound({ agents: null, error }),
    );
  }, []);
  useEffect(load, [load]);
  return { ...found, reload: load };
}

/** An agent's chats, loaded again when `version` changes: {chats, total, error}. */
export function useChats(agentId, version) {
  const [found, setFound] = useState({ agentId: null, chats: null, error: null });
  useEffect(() => {
    let current = true;
    if (!agentId) return undefined;
    api.get(`api/v1/agents/${encodeURIComponent(agentId)}/chats`, { query: { limit: 100 } }).then(
      (answer) => current && setFound({ agentId, chats: answer.items, total: answer.total, error: null }),
      (error) => current && setFound({ agentId, chats: null, error }),
    );
    return () => { current = false; };
  }, [agentId, version]);
  // Another agent's chats are not this one's, even while this one's are loading.
  return found.agentId === agentId ? found : { chats: null, error: null };
}

/** What the picker shows of an agent: its name, with its id when another agent has the same name. */
export function pickerLabel(agent, agents) {
  const name = agent.name || agent.id;
  const twins = agents.filter((other) => (other.name || other.id) === name).length;
  return twins > 1 ? `${name} (${agent.id})` : name;
}

export function AgentPicker({ agents, agentId }) {
  const groups = KIND_GROUPS.map(([kind, label]) => [label, agents.filter((agent) => (agent.kind || 'llm') === kind)]);
  const others = agents.filter((agent) => !KIND_GROUPS.some(([kind]) => (agent.kind || 'llm') === kind));
  if (others.length) groups.push(['Other', others]);
  return html`<div class="field agent-picker">
    <label for="chat-agent">Agent or bot</label>
    <select id="chat-agent" value=${agentId || ''} onChange=${(event) => navigate(`chat/${encodeURIComponent(event.currentTarget.value)}`)}>
      ${!agentId && html`<option value="" disabled>Choose…</option>`}
      ${groups.filter(([, items]) => items.length).map(([label, items]) => html`<optgroup label=${label}>
        ${items.map((agent) => html`<option value=${agent.id}>${pickerLabel(agent, agents)}</option>`)}
      </optgroup>`)}
    </select>
  </div>`;
}

function when(iso) {
  const date = new Date(iso);
  const sameDay = date.toDateString() === new Date().toDateString();
  return sameDay ? date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : date.toLocaleDateString();
}

const madeHere = new Set();

/** A new chat's id (the chat exists on the server once its first message is sent). */
export function newChatId() {
  const random = crypto.getRandomValues(new Uint8Array(9));
  const id = `c-${Array.from(random, (byte) => byte.toString(16).padStart(2, '0')).join('')}`;
  madeHere.add(id);
  return id;
}

/** Whether this page made the chat id and has sent nothing in it yet: it has no history to load. */
export function isNewChat(chatId) {
  return madeHere.has(chatId);
}

export function chatStarted(chatId) {
  madeHere.delete(chatId);
}

/** A chat's title as the list shows it: the plain text of its first message (Markdown without
 * its marks), on one line; the chat's id when that has no text. */
function chatTitle(chat) {
  return (chat.fresh ? chat.title : markdownText(chat.title)) || chat.chat_id;
}

function ChatTitle({ chat }) {
  const title = useMemo(() => chatTitle(chat), [chat.title, chat.chat_id, chat.fresh]);
  return html`<span class="title" title=${title}>${title}</span>`;
}

export function ChatList({ agentId, chatId, chats, error }) {
  const [open, setOpen] = useState(false);
  useEffect(() => setOpen(false), [chatId]);
  const items = chats || [];
  const shown = chatId && !items.some((chat) => chat.chat_id === chatId)
    ? [{ chat_id: chatId, title: 'New chat', fresh: true }, ...items] : items;
  return html`<nav class="chat-list" aria-label="Chats">
    <div class="chat-list-head">
      <h2>Chats</h2>
      <button type="button" class="list-toggle" aria-expanded=${open ? 'true' : 'false'} aria-controls="chat-list-items"
        onClick=${() => setOpen(!open)}>${open ? 'Hide' : 'Show'} chats</button>
      <button type="button" class="primary" onClick=${() => navigate(`chat/${encodeURIComponent(agentId)}/${newChatId()}`)}>New chat</button>
    </div>
    ${error && html`<p class="form-error" role="alert">The chats could not be loaded: ${error.message}</p>`}
    ${!error && !chats && html`<p class="hint" role="status">Loading the chats…</p>`}
    ${chats && !shown.length && html`<p class="hint">No chats yet.</p>`}
    <ul id="chat-list-items" class=${open ? 'open' : ''}>${shown.map((chat) => html`<li key=${chat.chat_id}>
      <a href=${href(`chat/${encodeURIComponent(agentId)}/${encodeURIComponent(chat.chat_id)}`)}
        aria-current=${chat.chat_id === chatId ? 'page' : undefined}>
        <${ChatTitle} chat=${chat}/>
        ${!chat.fresh && html`<span class="when">${when(chat.last_message_at)}</span>`}
      </a></li>`)}
    </ul>
  </nav>`;
}
