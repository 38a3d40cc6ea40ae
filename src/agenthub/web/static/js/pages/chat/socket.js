// One chat's WebSocket (`ws/agents/{id}?chat_id=...`), kept open: when it drops it is opened
// again with backoff, naming the last message the page has (`&after=<message id>`), so the
// server replays what came meanwhile and nothing is lost (see the README, "The WebSocket").
//
// The server checks the access token of an open socket again now and then, so a socket
// outliving its token would be shut (4401) at the next message: it is opened again with a
// fresh token shortly before the token expires, the same lossless way.
import { wsUrl } from '../../lib/api.js';

const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 10_000;
/** Close codes after which opening again would be refused the same way. */
const FINAL_CODES = new Set([4400, 4401, 4403, 4404]);
const IDLE_CLOSE = 4408;
const TOKENS_KEY = 'agenthub.tokens'; // lib/api.js keeps the login there
/** How long before the access token expires the socket is opened again (lib/api.js refreshes a token 30 s early). */
const RENEW_BEFORE_MS = 20_000;
const MIN_RENEW_MS = 5_000;

function tokenExpiresAt() {
  try { return JSON.parse(localStorage.getItem(TOKENS_KEY) || 'null')?.expires_at || null; } catch { return null; }
}

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
    this.renewTimer = null;
    this.ended = false;
    this.skipAfter = false;
  }

  /** Open the socket; `quiet`: a planned reopen, not shown as a reconnection. */
  async open({ quiet = false } = {}) {
    if (this.ended) return;
    if (!quiet) this.onState(this.attempt ? 'reconnecting' : 'connecting');
    // A chat that does not have the named message (`unknown_message`) is opened again without it.
    const after = this.skipAfter ? undefined : this.lastMessageId();
    this.skipAfter = false;
    const address = await wsUrl(`ws/agents/${encodeURIComponent(this.agentId)}`, { chat_id: this.chatId, after });
    if (this.ended) return;
    const socket = new WebSocket(address);
    let wasOpen = false;
    this.socket = socket;
    socket.onopen = () => {
      wasOpen = true;
      this.attempt = 0;
      this.onState('open');
      this.planRenewal();
    };
    socket.onmessage = (frame) => {
      let event;
      try { event = JSON.parse(frame.data); } catch { return; }
      if (event.type === 'error' && event.code === 'unknown_message') { this.skipAfter = true; return; }
      this.onEvent(event);
    };
    socket.onclose = (closed) => {
      if (this.socket !== socket || this.ended) return;
      this.socket = null;
      clearTimeout(this.renewTimer);
      if (closed.code === IDLE_CLOSE) { this.open({ quiet: true }).catch(() => this.scheduleReopen()); return; }
      // Refused at the handshake: opening again is refused too. An open socket shut with
      // 4401 (its token expired) is opened again once, with a fresh token.
      const refused = FINAL_CODES.has(closed.code) && !(closed.code === 4401 && wasOpen);
      if (refused && !this.skipAfter) {
        this.ended = true;
        this.onState('closed', closed.reason || `The server closed the chat (${closed.code}).`);
        return;
      }
      this.scheduleReopen();
    };
  }

  planRenewal() {
    clearTimeout(this.renewTimer);
    const expiresAt = tokenExpiresAt();
    if (!expiresAt) return;
    const delay = Math.max(MIN_RENEW_MS, expiresAt - Date.now() - RENEW_BEFORE_MS);
    this.renewTimer = setTimeout(() => this.renew(), delay);
  }

  /** Open a new socket with a fresh token, then let the old one go (the replay fills any gap). */
  renew() {
    if (this.ended || !this.socket) return;
    const old = this.socket;
    this.socket = null;
    old.onclose = null;
    old.onmessage = null;
    old.close(1000);
    this.open({ quiet: true }).catch(() => this.scheduleReopen());
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
    clearTimeout(this.renewTimer);
    const socket = this.socket;
    this.socket = null;
    socket?.close(1000);
  }
}
