// #/settings/<tab>: credentials, API keys, members and invitations, notification channels and
// their delivery log, calendar events. Each tab is its own module.
import { html } from '../../lib/ui.js';
import { href } from '../../lib/router.js';
import Credentials from './credentials.js';
import ApiKeys from './api-keys.js';
import MembersTab from './members.js';
import Notifications from './notifications.js';
import Calendar from './calendar.js';

const TABS = [
  ['credentials', 'Credentials', Credentials],
  ['keys', 'API keys', ApiKeys],
  ['members', 'Members', MembersTab],
  ['notifications', 'Notifications', Notifications],
  ['calendar', 'Calendar', Calendar],
];

export default function SettingsPage({ route }) {
  const wanted = route.parts[1];
  const [name, , Tab] = TABS.find(([tab]) => tab === wanted) || TABS[0];
  return html`<section class="settings" aria-labelledby="settings-title">
    <h1 id="settings-title">Settings</h1>
    <nav class="settings-tabs" aria-label="Settings">
      <ul>${TABS.map(([tab, text]) => html`<li key=${tab}>
        <a href=${href(`settings/${tab}`)} aria-current=${tab === name ? 'page' : undefined}>${text}</a></li>`)}</ul>
    </nav>
    <${Tab} key=${name}/>
  </section>`;
}
