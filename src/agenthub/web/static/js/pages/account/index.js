// Logged out: log in, create an account (a new organisation) or accept an invitation
// (`#/invite/<token>`, the link an organisation's admin shares).
import { html, useState } from '../../lib/ui.js';
import { api, login } from '../../lib/api.js';
import { href, navigate } from '../../lib/router.js';
import { Field, FormError, fieldError } from '../../lib/forms.js';

const FIRST_OWNER = document.querySelector('meta[name="agenthub-first-owner"]')?.content || '';

function useSubmit(send) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      login.keep(await send(new FormData(event.currentTarget)));
      navigate('chat', { replace: true });
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  return { error, busy, submit };
}

function LogIn() {
  const { error, busy, submit } = useSubmit((form) => api.post('api/v1/auth/login', {
    email: form.get('email'), password: form.get('password'),
  }, { anonymous: true }));
  return html`<form class="card account" onSubmit=${submit} aria-labelledby="login-title">
    <h1 id="login-title">Log in to AgentHub</h1>
    ${FIRST_OWNER && html`<p class="hint first-owner">First time here? Log in as <strong>${FIRST_OWNER}</strong> with
      the password AgentHub printed on its console at its first start.</p>`}
    <${FormError} error=${error}/>
    <${Field} label="E-mail" name="email" type="email" autocomplete="username" required/>
    <${Field} label="Password" name="password" type="password" autocomplete="current-password" required/>
    <button type="submit" class="primary" disabled=${busy}>Log in</button>
    <p class="switch">No account yet? <a href=${href('register')}>Create one</a></p>
  </form>`;
}

function Register({ invitation }) {
  const { error, busy, submit } = useSubmit((form) => api.post('api/v1/auth/register', {
    email: form.get('email'),
    password: form.get('password'),
    ...(invitation ? { invitation } : form.get('org_name') ? { org_name: form.get('org_name') } : {}),
  }, { anonymous: true }));
  const title = invitation ? 'Accept the invitation' : 'Create an account';
  return html`<form class="card account" onSubmit=${submit} aria-labelledby="register-title">
    <h1 id="register-title">${title}</h1>
    ${invitation && html`<p class="hint">You were invited to an organisation: choose your password to join it.</p>`}
    <${FormError} error=${error} fields=${['email', 'password', 'org_name']}/>
    <${Field} label="E-mail" name="email" type="email" autocomplete="username" required error=${fieldError(error, 'email')}/>
    <${Field} label="Password" name="password" type="password" autocomplete="new-password" required minlength="8"
      error=${fieldError(error, 'password')} hint="At least 8 characters."/>
    ${!invitation && html`<${Field} label="Organisation name" name="org_name" autocomplete="organization"
      error=${fieldError(error, 'org_name')} hint="Optional: your new organisation's name."/>`}
    <button type="submit" class="primary" disabled=${busy}>${invitation ? 'Join' : 'Create account'}</button>
    <p class="switch">Have an account? <a href=${href('login')}>Log in</a></p>
  </form>`;
}

export function AccountPages({ route }) {
  const [page, token] = route.parts;
  let content;
  if (page === 'register') content = html`<${Register}/>`;
  else if (page === 'invite' && token) content = html`<${Register} invitation=${token}/>`;
  else content = html`<${LogIn}/>`;
  return html`<main class="centered" id="main">${content}</main>`;
}
