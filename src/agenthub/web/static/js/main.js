// The console's entry: logged out, the account pages; logged in, the layout with the area the
// hash names. Areas are loaded on first visit (dynamic import), so the first page stays light.
import { html, render, useEffect, useState } from './lib/ui.js';
import { api, login } from './lib/api.js';
import { useRoute, navigate } from './lib/router.js';
import { MeContext } from './lib/session.js';
import { Layout } from './layout.js';
import { NotFound } from './not-found.js';
import { AccountPages } from './pages/account/index.js';

const AREAS = {
  chat: () => import('./pages/chat/index.js'),
  agents: () => import('./pages/agents/index.js'),
  bots: () => import('./pages/bots/index.js'),
  usage: () => import('./pages/usage/index.js'),
  settings: () => import('./pages/settings/index.js'),
};
const HOME = 'chat';
/** The logged-out pages: a logged-in user who opens one goes to the chat. */
const ACCOUNT_PAGES = new Set(['login', 'register', 'invite']);

function Area({ name, route }) {
  const [loaded, setLoaded] = useState(null);
  useEffect(() => {
    let current = true;
    setLoaded(null);
    (AREAS[name] || AREAS[HOME])().then(
      (module) => current && setLoaded({ name, Page: module.default }),
      (error) => current && setLoaded({ name, error }),
    );
    return () => { current = false; };
  }, [name]);
  // Until the new area's module is in, the old area's page is not given the new route (it
  // would read another area's path as its own).
  if (!loaded || loaded.name !== name) return html`<p class="loading" role="status">Loading…</p>`;
  if (loaded.error) return html`<p class="form-error" role="alert">This page could not be loaded: ${loaded.error.message}</p>`;
  const { Page } = loaded;
  return html`<${Page} route=${route}/>`;
}

/** Goes to another page (once rendered: not while rendering). */
function Redirect({ to }) {
  useEffect(() => navigate(to, { replace: true }), [to]);
  return html`<p class="loading" role="status">Loading…</p>`;
}

function App() {
  const route = useRoute();
  const [loggedIn, setLoggedIn] = useState(login.loggedIn);
  const [me, setMe] = useState(null);
  const [problem, setProblem] = useState(null);

  useEffect(() => login.subscribe(setLoggedIn), []);
  useEffect(() => {
    if (!loggedIn) { setMe(null); return; }
    api.get('api/v1/auth/me').then(setMe, (error) => setProblem(error));
  }, [loggedIn]);

  if (!loggedIn) return html`<${AccountPages} route=${route}/>`;
  if (!me) {
    return problem
      ? html`<main class="centered"><p class="form-error" role="alert">${problem.message}</p>
          <button type="button" onClick=${() => login.forget()}>Log in again</button></main>`
      : html`<p class="loading" role="status">Loading…</p>`;
  }
  const [area = HOME] = route.parts;
  if (ACCOUNT_PAGES.has(area)) return html`<${Redirect} to=${HOME}/>`;
  const page = AREAS[area]
    ? html`<${Area} name=${area} route=${route}/>`
    : html`<${NotFound} path=${route.parts.join('/')} home=${HOME}/>`;
  return html`<${MeContext.Provider} value=${me}>
    <${Layout} area=${AREAS[area] ? area : 'not-found'}>${page}</${Layout}>
  </${MeContext.Provider}>`;
}

const root = document.getElementById('app');
root.replaceChildren();
render(html`<${App}/>`, root);
