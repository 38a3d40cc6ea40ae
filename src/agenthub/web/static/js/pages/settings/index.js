// The settings area (being built).
import { html } from '../../lib/ui.js';

export default function SettingsPage() {
  return html`<section><h1>Settings</h1></section>`;
}
