// A chat's messages as the page shows them, and how each WebSocket event changes them. Pure
// functions of (state, event), so the page is a reducer over what the server says.
//
// An entry: {key, role: 'user'|'assistant'|'error', content, message_id?, reply_to?,
// attachments?, widget?, streaming?, stopped? (the server stopped it on request),
// abandoned? (the page stopped showing it: the server could not be asked)}.

let keys = 0;
const nextKey = () => `m${++keys}`;

export const emptyTranscript = { entries: [], waiting: 0, status: '', abandoned: new Set() };

/** Entries from the history API (`GET .../chats/{chat_id}/messages`). */
export function fromHistory(items) {
  const entries = [];
  for (const item of items) {
    const role = item.role === 'user' ? 'user' : 'assistant';
    const entry = {
      key: nextKey(), role, content: item.content,
      message_id: item.message_id, reply_to: item.reply_to, attachments: item.attachments, widget: item.widget,
      created_at: item.created_at, stopped: Boolean(item.stopped),
    };
    if (role === 'user') entry.shown = pressedText(entries[entries.length - 1], item.content);
    entries.push(entry);
  }
  return { ...emptyTranscript, abandoned: new Set(), entries };
}

/** A user's message that is the value of a button of the bot's message before it shows as the
 * button's text (the value is what was sent); undefined otherwise. */
function pressedText(previous, content) {
  const button = previous?.widget?.buttons?.find((item) => item.value === content);
  return button && button.text !== undefined ? String(button.text) : undefined;
}

/** The id of the last message the page holds (the replay's `after`). */
export function lastMessageId(state) {
  for (let i = state.entries.length - 1; i >= 0; i -= 1) {
    if (state.entries[i].message_id) return state.entries[i].message_id;
  }
  return undefined;
}

const known = (state, id) => id && state.entries.some((entry) => entry.message_id === id);

function streamingIndex(entries) {
  const last = entries.length - 1;
  return last >= 0 && entries[last].role === 'assistant' && entries[last].streaming ? last : -1;
}

function replaceAt(entries, index, change) {
  const copy = entries.slice();
  copy[index] = { ...copy[index], ...change };
  return copy;
}

/** The user's message, shown at once; its id comes with the `received` status. */
export function sent(state, { content, attachments, shown, button }) {
  const entry = { key: nextKey(), role: 'user', content, shown, button, attachments, pending: true, live: true };
  return { ...state, entries: [...state.entries, entry], waiting: state.waiting + 1, status: '' };
}

/** The messages sent from this page whose answers are awaited (what a Stop is about). */
export function unansweredMessages(state) {
  if (!state.waiting) return [];
  return state.entries.filter((entry) => entry.live && entry.message_id && !answered(state.entries, entry)
    && !state.abandoned.has(entry.message_id));
}

/** Stop waiting for the answer being written, in this page only (when the server can't be
 * asked to stop it): what came of it stays, the rest is not shown. */
export function abandon(state) {
  const abandoned = new Set(state.abandoned);
  let entries = state.entries;
  const index = streamingIndex(entries);
  if (index >= 0) entries = replaceAt(entries, index, { streaming: false, abandoned: true });
  for (const entry of entries) if (entry.role === 'user' && entry.message_id && !answered(entries, entry)) abandoned.add(entry.message_id);
  return { ...state, entries, waiting: 0, status: '', abandoned };
}

function answered(entries, user) {
  return entries.some((entry) => entry.reply_to === user.message_id && !entry.streaming);
}

function onStatus(state, event) {
  if (event.message === 'received') {
    const index = state.entries.findIndex((entry) => entry.pending);
    if (index < 0 || known(state, event.message_id)) return state;
    return { ...state, entries: replaceAt(state.entries, index, { pending: false, message_id: event.message_id }) };
  }
  if (state.abandoned.has(event.reply_to)) return state;
  let { entries } = state;
  const index = streamingIndex(entries);
  // "The agent restarted; its answer starts over.": what was streamed goes.
  if (/starts over/.test(event.message) && index >= 0) entries = replaceAt(entries, index, { content: '' });
  return { ...state, entries, status: event.message };
}

function onChunk(state, event) {
  if (!state.waiting) return state; // the end of an answer the user stopped, or one already replayed
  const index = streamingIndex(state.entries);
  if (index >= 0) {
    return { ...state, entries: replaceAt(state.entries, index, { content: state.entries[index].content + event.content }) };
  }
  const entry = { key: nextKey(), role: 'assistant', content: event.content, streaming: true };
  return { ...state, entries: [...state.entries, entry] };
}

function onMessage(state, event) {
  const object = event.message_object || {};
  const id = object.message_id;
  const done = event.more ? state.waiting : Math.max(0, state.waiting - 1);
  if (known(state, id) || state.abandoned.has(object.reply_to)) return { ...state, waiting: known(state, id) ? state.waiting : done };
  const final = {
    role: 'assistant', content: event.content, message_id: id, reply_to: object.reply_to,
    attachments: event.attachments, widget: event.widget, streaming: false, stopped: Boolean(event.stopped),
  };
  const index = streamingIndex(state.entries);
  const entries = index >= 0
    ? replaceAt(state.entries, index, final)
    : [...state.entries, { key: nextKey(), ...final }];
  return { ...state, entries, waiting: done, status: done ? state.status : '' };
}

function onError(state, event) {
  if (event.reply_to && state.abandoned.has(event.reply_to)) return state;
  let { entries } = state;
  const index = streamingIndex(entries);
  if (index >= 0) entries = replaceAt(entries, index, { streaming: false });
  // A message the server refused (invalid input, a budget, a rate limit) was never received.
  const refused = entries.findIndex((entry) => entry.pending);
  if (refused >= 0 && !event.reply_to) entries = replaceAt(entries, refused, { pending: false, refused: true });
  const entry = { key: nextKey(), role: 'error', content: event.message || 'Something went wrong.', code: event.code, reply_to: event.reply_to };
  return { ...state, entries: [...entries, entry], waiting: Math.max(0, state.waiting - 1), status: '' };
}

/** The state after one WebSocket event. */
export function applyEvent(state, event) {
  switch (event.type) {
    case 'status': return onStatus(state, event);
    case 'chunk': return onChunk(state, event);
    case 'message': return onMessage(state, event);
    case 'error': return onError(state, event);
    default: return state; // tool calls and other agent events: not shown
  }
}

/** The last message the user sent (for Retry), or undefined. */
export function lastUserMessage(state) {
  for (let i = state.entries.length - 1; i >= 0; i -= 1) if (state.entries[i].role === 'user') return state.entries[i];
  return undefined;
}

/** Whether the last turn of the chat went wrong: an error, a stopped answer, a message not sent,
 * or the user's message is the last one with nothing awaited (it was never answered). */
export function lastTurnFailed(state) {
  const last = state.entries[state.entries.length - 1];
  if (!last || state.waiting) return false;
  if (last.role === 'error' || last.stopped || last.abandoned || last.refused) return true;
  return last.role === 'user';
}
