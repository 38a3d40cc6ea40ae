// Credentials: secrets that agents and bots name by id. The value goes in once (a password
// field, emptied when saved) and never comes back: the list shows names and types only.
import { html, useState } from '../../lib/ui.js';
import { api } from '../../lib/api.js';
import { Field, FormError, fieldError } from '../../lib/forms.js';
import { isAdmin, useMe } from '../../lib/session.js';
import { ConfirmButton, ListState, NotAllowed, useRead, useSubmit, when } from './shared.js';

const TYPES = ['api_key', 'telegram_bot_token', 'http_header', 'password'];

function NewCredential({ onSaved }) {
  const [saved, setSaved] = useState(null);
  const { error, busy, submit } = useSubmit((form) => api.post('api/v1/credentials', {
    name: form.get('name'), type: form.get('type'), value: form.get('value'),
  }), (credential) => { setSaved(credential); onSaved(); });
  return html`<form class="card settings-form" onSubmit=${submit} aria-labelledby="new-credential">
    <h2 id="new-credential">New credential</h2>
    <${FormError} error=${error} fields=${['name', 'type', 'value']}/>
    <${Field} label="Name" name="name" required maxlength="200" autocomplete="off" error=${fieldError(error, 'name')}/>
    <${Field} label="Type" name="type" required maxlength="64" list="credential-types" autocomplete="off"
      hint="Free text, such as api_key or telegram_bot_token." error=${fieldError(error, 'type')}/>
    <datalist id="credential-types">${TYPES.map((type) => html`<option value=${type}></option>`)}</datalist>
    <${Field} label="Value" name="value" type="password" required autocomplete="new-password"
      hint="Stored encrypted; it is never shown again, not even to you." error=${fieldError(error, 'value')}/>
    <button type="submit" class="primary" disabled=${busy}>Save credential</button>
    ${saved && html`<p class="ok" role="status">Saved “${saved.name}” (${saved.id}). Its value is stored and will not be shown again.</p>`}
  </form>`;
}

export default function Credentials() {
  const me = useMe();
  const admin = isAdmin(me);
  const read = useRead(() => api.get('api/v1/credentials'));
  const items = read.data?.items || [];
  return html`<div class="settings-tab">
    <section class="card" aria-labelledby="credentials-title">
      <h2 id="credentials-title">Credentials</h2>
      <p class="hint">Agents and bots name a credential by its id; its value is never shown here.</p>
      <${ListState} read=${read} items=${items} empty="No credentials yet.">
        <div class="table-wrap"><table class="stack-table">
          <thead><tr><th scope="col">Name</th><th scope="col">Type</th><th scope="col">Id</th>
            <th scope="col">Value</th><th scope="col">Created</th>${admin && html`<th scope="col"><span class="sr-only">Actions</span></th>`}</tr></thead>
          <tbody>${items.map((item) => html`<tr key=${item.id}>
            <th scope="row">${item.name}</th><td data-label="Type">${item.type}</td><td data-label="Id"><code>${item.id}</code></td>
            <td data-label="Value"><span class="masked" aria-label="hidden">••••••••</span></td><td data-label="Created">${when(item.created_at)}</td>
            ${admin && html`<td class="actions"><${ConfirmButton} label="Delete" confirm="Delete for good" what=${item.name}
              act=${async () => { await api.del(`api/v1/credentials/${encodeURIComponent(item.id)}`); read.reload(); }}/></td>`}
          </tr>`)}</tbody>
        </table></div>
      </${ListState}>
    </section>
    ${admin ? html`<${NewCredential} onSaved=${read.reload}/>`
      : html`<${NotAllowed}>Only the organisation's owners and admins add and delete credentials.</${NotAllowed}>`}
  </div>`;
}
