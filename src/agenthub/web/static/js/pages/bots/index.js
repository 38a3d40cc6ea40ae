// The bots area (being built).
import { html } from '../../lib/ui.js';

export default function BotsPage() {
  return html`<section><h1>Bots</h1></section>`;
}
