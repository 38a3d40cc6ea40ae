// #/settings/<tab>: credentials, API keys, members and invitations, notification channels and
// their delivery log, calendar events. Each tab is its own module; `#/settings` is the first.
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

/** `#/settings/<a name no tab has>`: said, with the tabs there are (not another tab's page). */
function NoSuchTab({ wanted }) {
  return html`<section class="card not-found" aria-labelledby="no-such-tab">
    <h2 id="no-such-tab">No such settings page</h2>
    <p>Settings has no page named <code>${wanted}</code>. Its pages are:</p>
    <ul>${TABS.map(([tab, text]) => html`<li key=${tab}><a href=${href(`settings/${tab}`)}>${text}</a></li>`)}</ul>
  </section>`;
}

export default function SettingsPage({ route }) {
  const wanted = route.parts[1];
  const found = wanted === undefined ? TABS[0] : TABS.find(([tab]) => tab === wanted);
  const [name, , Tab] = found || [];
  return html`<section class="settings" aria-labelledby="settings-title">
    <h1 id="settings-title">Settings</h1>
    <nav class="settings-tabs" aria-label="Settings">
      <ul>${TABS.map(([tab, text]) => html`<li key=${tab}>
        <a href=${href(`settings/${tab}`)} aria-current=${tab === name ? 'page' : undefined}>${text}</a></li>`)}</ul>
    </nav>
    ${found ? html`<${Tab} key=${name}/>` : html`<${NoSuchTab} wanted=${wanted}/>`}
  </section>`;
}
