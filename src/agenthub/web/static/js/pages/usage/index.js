// The usage area (being built).
import { html } from '../../lib/ui.js';

export default function UsagePage() {
  return html`<section><h1>Usage</h1></section>`;
}
