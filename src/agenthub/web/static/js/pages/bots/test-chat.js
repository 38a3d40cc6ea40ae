// A test chat beside the graph: messages go to the bot's draft (POST /api/v1/bots/{id}/test),
// in a test session of the caller's own; the bot's buttons can be pressed; Reset starts over.
import { html, useEffect, useRef, useState } from '../../lib/ui.js';
import { api } from '../../lib/api.js';
import { Markdown } from '../../lib/markdown.js';
import { useMe, userData } from '../../lib/session.js';

const SENT_NOTHING = 'The bot sent nothing: no connection took the message, or the step it led to has no message.';
const NO_GREETING = 'A new chat starts at the first step without sending its message, and its first message is tried '
  + 'against that step\'s connections. Press “Add a /start greeting” above the graph, then send /start.';

export function TestChat({ botId, greets = true }) {
  const me = useMe();
  const [lines, setLines] = useState([]);
  const [chatId, setChatId] = useState(null);
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const log = useRef(null);
  const path = `api/v1/bots/${encodeURIComponent(botId)}/test`;

  useEffect(() => { log.current?.lastElementChild?.scrollIntoView?.({ block: 'nearest' }); }, [lines]);

  const send = async (body, shown) => {
    setBusy(true); setError(null);
    setLines((old) => [...old, { from: 'you', text: shown }]);
    try {
      const about = userData(me); // as the Chat area says who writes: the bot's user.first_name, user.username
      const answer = await api.post(path, { ...body, ...(chatId ? { chat_id: chatId } : {}), ...(about ? { user_data: about } : {}) });
      setChatId(answer.chat_id);
      const said = answer.messages.filter((m) => m.text || m.widget?.buttons?.length || m.attachments?.length).map((m) => ({ from: 'bot', text: m.text, buttons: m.widget?.buttons || [] }));
      if (said.length === 0) said.push({ from: 'note', text: greets ? SENT_NOTHING : `${SENT_NOTHING} ${NO_GREETING}` });
      if (answer.error) said.push({ from: 'note', text: answer.error });
      setLines((old) => [...old, ...said]);
    } catch (failure) {
      setError(failure);
    } finally { setBusy(false); }
  };
  const submit = (event) => {
    event.preventDefault();
    if (!text.trim()) return;
    send({ text }, text);
    setText('');
  };
  // A pressed button shows as its text, as in the Chat area; its value is what is sent.
  const press = (button) => send({ text: button.value || button.text, button: button.value || button.text }, String(button.text));
  const reset = async () => {
    setError(null);
    try { await api.del(path); setLines([]); setChatId(null); } catch (failure) { setError(failure); }
  };
  const lastBot = lines.map((l, i) => [l, i]).filter(([l]) => l.from === 'bot').pop()?.[1];

  return html`<section class="test-chat card" aria-labelledby="test-chat-title">
    <div class="test-chat-head">
      <h2 id="test-chat-title">Test chat</h2>
      <button type="button" onClick=${reset}>Reset test chat</button>
    </div>
    <p class="hint">Runs the draft, unpublished edits included.</p>
    <ol class="test-chat-log" ref=${log} aria-live="polite" aria-label="Test chat messages">
      ${lines.length === 0 && html`<li class="hint">Send a message to start (the first step's groups decide what happens).</li>`}
      ${lines.map((line, index) => html`<li key=${index} class=${`said said-${line.from}`}>
        ${line.from === 'bot' ? html`<${Markdown} text=${line.text}/>` : html`<p>${line.text}</p>`}
        ${line.buttons?.length > 0 && html`<div class="said-buttons" role="group" aria-label="Buttons of the bot's message">
          ${line.buttons.map((b) => html`<button type="button" disabled=${busy || index !== lastBot} onClick=${() => press(b)}>${b.text}</button>`)}</div>`}
      </li>`)}
    </ol>
    ${error && html`<p class="form-error" role="alert">${error.message}</p>`}
    <form class="test-chat-form" onSubmit=${submit}>
      <label class="sr-only" for="test-chat-text">Test message</label>
      <input id="test-chat-text" value=${text} onInput=${(e) => setText(e.currentTarget.value)} placeholder="Write to the draft…" maxlength="32000"/>
      <button type="submit" class="primary" disabled=${busy} aria-label="Send test message">Send</button>
    </form>
  </section>`;
}
