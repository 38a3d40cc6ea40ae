// The agents area (being built).
import { html } from '../../lib/ui.js';

export default function AgentsPage() {
  return html`<section><h1>Agents</h1></section>`;
}
