// The chat area (being built).
import { html } from '../../lib/ui.js';

export default function ChatPage() {
  return html`<section><h1>Chat</h1></section>`;
}
