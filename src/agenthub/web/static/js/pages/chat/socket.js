// One chat's WebSocket (`ws/agents/{id}?chat_id=...`), kept open: when it drops it is opened
// again with backoff, naming the last message the page has (`&after=<message id>`), so the
// server replays what came meanwhile and nothing is lost (see the README, "The WebSocket").
import { wsUrl } from '../../lib/api.js';

const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 10_000;
/** Close codes after which opening again would be refused the same way. */
const FINAL_CODES = new Set([4400, 4401, 4403, 4404]);

export class ChatSocket {
  /**
   * `onEvent(event)` gets each event the server sends; `onState(state)` gets `connecting`,
   * `open`, `reconnecting` or `closed` (with the reason as the second argument).
   * `lastMessageId()` names the last message the page holds, for the replay.
   */
  constructor({ agentId, chatId, lastMessageId, onEvent, onState }) {
    Object.assign(this, { agentId, chatId, lastMessageId, onEvent, onState });
    this.socket = null;
    this.attempt = 0;
    this.timer = null;
    this.ended = false;
  }

  async open() {
    if (this.ended) return;
    this.onState(this.attempt ? 'reconnecting' : 'connecting');
    // A chat that does not have the named message (4404 `unknown_message`) is opened again without it.
    const after = this.skipAfter ? undefined : this.lastMessageId();
    this.skipAfter = false;
    const address = await wsUrl(`ws/agents/${encodeURIComponent(this.agentId)}`, { chat_id: this.chatId, after });
    if (this.ended) return;
    const socket = new WebSocket(address);
    this.socket = socket;
    socket.onopen = () => { this.attempt = 0; this.onState('open'); };
    socket.onmessage = (frame) => {
      let event;
      try { event = JSON.parse(frame.data); } catch { return; }
      if (event.type === 'error' && event.code === 'unknown_message') { this.skipAfter = true; return; }
      this.onEvent(event);
    };
    socket.onclose = (closed) => {
      if (this.socket !== socket || this.ended) return;
      this.socket = null;
      if (FINAL_CODES.has(closed.code) && !this.skipAfter) {
        this.ended = true;
        this.onState('closed', closed.reason || `The server closed the chat (${closed.code}).`);
        return;
      }
      this.scheduleReopen();
    };
  }

  scheduleReopen() {
    this.attempt += 1;
    this.onState('reconnecting');
    const delay = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** (this.attempt - 1));
    this.timer = setTimeout(() => {
      this.timer = null;
      this.open().catch(() => this.scheduleReopen());
    }, delay);
  }

  get isOpen() { return this.socket?.readyState === WebSocket.OPEN; }

  /** Send a message frame; false when the socket is not open (the caller keeps the text). */
  send(frame) {
    if (!this.isOpen) return false;
    this.socket.send(JSON.stringify({ type: 'message', chat_id: this.chatId, ...frame }));
    return true;
  }

  close() {
    this.ended = true;
    clearTimeout(this.timer);
    const socket = this.socket;
    this.socket = null;
    socket?.close(1000);
  }
}
