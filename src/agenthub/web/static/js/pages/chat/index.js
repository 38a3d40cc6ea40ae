// The chat area: `#/chat` (the last agent talked to, or the first), `#/chat/<agent id>` (a new
// chat with it), `#/chat/<agent id>/<chat id>` (that chat: its history, then live).
import { html, useEffect, useState } from '../../lib/ui.js';
import { href, navigate } from '../../lib/router.js';
import { Conversation } from './conversation.js';
import { AgentPicker, ChatList, newChatId, useAgents, useChats } from './sidebar.js';

const LAST_AGENT_KEY = 'agenthub.chat.agent';

function Missing({ agents, reload, error }) {
  if (error) {
    return html`<section class="card"><h1>Chat</h1>
      <p class="form-error" role="alert">The agents could not be loaded: ${error.message}</p>
      <button type="button" onClick=${reload}>Try again</button></section>`;
  }
  if (!agents) return html`<p class="loading" role="status">Loading the agents…</p>`;
  return html`<section class="card"><h1>Chat</h1>
    <p>No agent or bot to talk to yet. <a href=${href('agents')}>Create an agent</a> or <a href=${href('bots')}>a bot</a> first.</p></section>`;
}

export default function ChatPage({ route }) {
  const [, agentId, chatId] = route.parts;
  const { agents, error, reload } = useAgents();
  const [version, setVersion] = useState(0);
  const chats = useChats(agentId, version);
  const agent = agents?.find((item) => item.id === agentId);

  useEffect(() => {
    if (!agents?.length) return;
    if (!agentId || !agent) {
      const remembered = localStorage.getItem(LAST_AGENT_KEY);
      const chosen = agents.find((item) => item.id === remembered) || agents[0];
      navigate(`chat/${encodeURIComponent(chosen.id)}`, { replace: true });
    } else if (!chatId) {
      const latest = chats.chats?.[0];
      if (chats.chats || chats.error) {
        navigate(`chat/${encodeURIComponent(agentId)}/${encodeURIComponent(latest ? latest.chat_id : newChatId())}`, { replace: true });
      }
    } else {
      localStorage.setItem(LAST_AGENT_KEY, agentId);
    }
  }, [agents, agentId, agent, chatId, chats.chats, chats.error]);

  if (agents?.length && !agent) return html`<p class="loading" role="status">Opening the chat…</p>`;
  if (!agent) return html`<${Missing} agents=${agents} reload=${reload} error=${error}/>`;
  return html`<div class="chat">
    <aside class="chat-side">
      <${AgentPicker} agents=${agents} agentId=${agentId}/>
      <${ChatList} agentId=${agentId} chatId=${chatId} chats=${chats.chats} error=${chats.error}/>
    </aside>
    ${chatId
      ? html`<${Conversation} key=${`${agentId}/${chatId}`} agent=${agent} chatId=${chatId}
          onActivity=${() => setVersion((n) => n + 1)}/>`
      : html`<p class="loading" role="status">Opening the chat…</p>`}
  </div>`;
}
