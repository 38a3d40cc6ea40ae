// The frame of every logged-in page: the header with the areas, the user and Log out.
import { html } from './lib/ui.js';
import { api, login } from './lib/api.js';
import { href } from './lib/router.js';
import { useMe } from './lib/session.js';

const NAV = [
  ['chat', 'Chat'],
  ['agents', 'Agents'],
  ['bots', 'Bots'],
  ['usage', 'Usage'],
  ['settings', 'Settings'],
];

async function logOut() {
  const stored = JSON.parse(localStorage.getItem('agenthub.tokens') || 'null');
  try {
    if (stored?.refresh_token) await api.post('api/v1/auth/logout', { refresh_token: stored.refresh_token }, { anonymous: true });
  } finally {
    login.forget();
  }
}

export function Layout({ area, children }) {
  const me = useMe();
  return html`<div class="frame">
    <header class="top">
      <a class="brand" href=${href('chat')}><img src="console/img/icon.svg" alt="" width="24" height="24"/>AgentHub</a>
      <nav aria-label="Main">
        <ul>${NAV.map(([name, label]) => html`<li>
          <a href=${href(name)} aria-current=${area === name ? 'page' : undefined}>${label}</a></li>`)}
        </ul>
      </nav>
      <div class="who">
        <span class="email" title=${`${me.email} (${me.role})`}>${me.email}</span>
        <button type="button" class="link" onClick=${logOut}>Log out</button>
      </div>
    </header>
    <main id="main" class="area area-${area}">${children}</main>
  </div>`;
}
