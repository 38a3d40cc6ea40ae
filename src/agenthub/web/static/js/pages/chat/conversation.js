// One open chat: its history (REST), then the live WebSocket; the answer streams into its
// bubble chunk by chunk, a dropped connection is opened again without losing anything.
import { html, useEffect, useLayoutEffect, useReducer, useRef, useState } from '../../lib/ui.js';
import { Bubble } from './bubble.js';
import { Composer } from './composer.js';
import { exportChat, wholeHistory } from './export.js';
import { ChatSocket } from './socket.js';
import { chatStarted, isNewChat } from './sidebar.js';
import { api } from '../../lib/api.js';
import { useMe, userData } from '../../lib/session.js';
import {
  abandon, applyEvent, emptyTranscript, fromHistory, lastMessageId, lastTurnFailed, lastUserMessage, sent,
  unansweredMessages,
} from './transcript.js';

function reduce(state, action) {
  switch (action.type) {
    case 'reset': return action.state;
    case 'event': return applyEvent(state, action.event);
    case 'sent': return sent(state, action.message);
    case 'abandon': return abandon(state);
    default: return state;
  }
}

const CONNECTION_TEXT = {
  connecting: 'Connecting…',
  reconnecting: 'Reconnecting…',
};

function useChat(agentId, chatId, onActivity) {
  const me = useMe();
  const [state, dispatch] = useReducer(reduce, emptyTranscript);
  const [loading, setLoading] = useState({ busy: true, error: null });
  const [connection, setConnection] = useState({ state: 'connecting', reason: '' });
  const socketRef = useRef(null);
  const lastId = useRef(undefined);
  lastId.current = lastMessageId(state) ?? lastId.current;

  useEffect(() => {
    let current = true;
    let socket = null;
    lastId.current = undefined;
    dispatch({ type: 'reset', state: emptyTranscript });
    setLoading({ busy: true, error: null });
    (isNewChat(chatId) ? Promise.resolve([]) : wholeHistory(agentId, chatId))
      .catch((error) => (error.status === 404 ? [] : Promise.reject(error))) // a new chat: nothing yet
      .then((items) => {
        if (!current) return;
        const history = fromHistory(items);
        lastId.current = lastMessageId(history);
        dispatch({ type: 'reset', state: history });
        setLoading({ busy: false, error: null });
        socket = new ChatSocket({
          agentId, chatId,
          lastMessageId: () => lastId.current,
          onEvent: (event) => {
            if (!current) return;
            dispatch({ type: 'event', event });
            if (event.type === 'status' && event.message === 'received') { chatStarted(chatId); onActivity?.(); }
          },
          onState: (name, reason) => current && setConnection({ state: name, reason: reason || '' }),
        });
        socketRef.current = socket;
        socket.open().catch((error) => current && setConnection({ state: 'closed', reason: error.message }));
      }, (error) => current && setLoading({ busy: false, error }));
    return () => { current = false; socket?.close(); socketRef.current = null; };
  }, [agentId, chatId]);

  const send = (message) => {
    const frame = { content: message.content };
    const about = userData(me);
    if (about) frame.user_data = about;
    if (message.attachments?.length) frame.attachments = message.attachments.map((file) => file.id ?? file.file_id);
    if (message.button !== undefined) frame.button = message.button;
    if (!socketRef.current?.send(frame)) return false;
    const attachments = frame.attachments?.map((id) => ({ file_id: id, download_path: `api/v1/files/${id}/content` }));
    const { content, shown, button } = message;
    dispatch({ type: 'sent', message: { content, attachments, shown, button } });
    return true;
  };
  // Stop: the server stops the answer and sends what was written of it; without a message
  // id to name yet, or when it can't be reached, the page stops waiting for it instead.
  const [stopping, setStopping] = useState(false);
  const stopAnswer = async () => {
    const targets = unansweredMessages(state);
    if (!targets.length) { dispatch({ type: 'abandon' }); return; }
    setStopping(true);
    const chat = `api/v1/agents/${encodeURIComponent(agentId)}/chats/${encodeURIComponent(chatId)}`;
    try {
      await Promise.all(targets.map((target) => api.post(`${chat}/messages/${encodeURIComponent(target.message_id)}/stop`)));
    } catch {
      dispatch({ type: 'abandon' });
    } finally {
      setStopping(false);
    }
  };
  return { state, loading, connection, send, stop: stopAnswer, stopping };
}

function Toolbar({ agent, chatId }) {
  const [problem, setProblem] = useState(null);
  const download = (format) => exportChat(agent, chatId, format).then(
    () => setProblem(null),
    (error) => setProblem(error.status === 404 ? 'This chat has no messages to export yet.' : error.message),
  );
  return html`<div class="chat-tools">
    <button type="button" onClick=${() => download('md')}>Export Markdown</button>
    <button type="button" onClick=${() => download('json')}>Export JSON</button>
    ${problem && html`<span class="field-error" role="alert">${problem}</span>`}
  </div>`;
}

function useStickToBottom(list, entries) {
  useLayoutEffect(() => {
    const element = list.current;
    if (element) element.scrollTop = element.scrollHeight;
  }, [entries]);
}

export function Conversation({ agent, chatId, onActivity }) {
  const { state, loading, connection, send, stop: stopAnswer, stopping } = useChat(agent.id, chatId, onActivity);
  const list = useRef(null);
  useStickToBottom(list, state.entries);
  const open = connection.state === 'open';
  const waiting = state.waiting > 0;
  const last = lastUserMessage(state);
  // Retry sends the last message again: after a turn that failed or was stopped; with a model
  // also after its last answer (a new answer), never after a bot's (it would move the bot on,
  // or it says nothing to the same message twice).
  const retryable = Boolean(last) && (lastTurnFailed(state) || agent.kind !== 'scenario');
  const statusText = connection.state === 'closed'
    ? '' : CONNECTION_TEXT[connection.state] || (stopping && 'Stopping…') || state.status || (waiting ? 'Writing…' : '');
  const lastEntry = state.entries[state.entries.length - 1];
  // A pressed button sends its value; the user's bubble shows its text.
  const press = (button) => send({ content: button.value, button: button.value, shown: button.text ?? button.value });

  return html`<section class="conversation" aria-labelledby="conversation-title">
    <header class="conversation-head">
      <h1 id="conversation-title">${agent.name || agent.id}</h1>
      <${Toolbar} agent=${agent} chatId=${chatId}/>
    </header>
    ${loading.error && html`<p class="form-error" role="alert">The chat could not be loaded: ${loading.error.message}</p>`}
    ${connection.state === 'closed' && html`<p class="form-error" role="alert">${connection.reason || 'The chat was closed.'}</p>`}
    <ol class="messages" ref=${list} aria-label="Conversation" aria-busy=${loading.busy ? 'true' : 'false'} tabindex="0">
      ${loading.busy && html`<li class="hint">Loading the chat…</li>`}
      ${!loading.busy && !loading.error && !state.entries.length && html`<li class="hint empty">No messages yet: say hello.</li>`}
      ${state.entries.map((entry) => html`<${Bubble} key=${entry.key} entry=${entry} agentName=${agent.name}
        canPress=${open && entry === lastEntry} onPress=${press}/>`)}
    </ol>
    <p class="chat-status" role="status" aria-live="polite">${statusText}</p>
    <${Composer} waiting=${waiting} canSend=${open && !loading.busy} canRetry=${retryable && open}
      onSend=${send} onStop=${stopAnswer}
      onRetry=${() => last && send({ content: last.content, attachments: last.attachments, shown: last.shown, button: last.button })}/>
  </section>`;
}
