// API keys for programs: made here and shown once (copy it now), listed by their prefix,
// revoked at once. Owners and admins see every key of the organisation, a member their own.
import { html, useState } from '../../lib/ui.js';
import { api } from '../../lib/api.js';
import { Field, FormError, fieldError } from '../../lib/forms.js';
import { isAdmin, useMe } from '../../lib/session.js';
import { ConfirmButton, CopyField, ListState, useRead, useSubmit, when } from './shared.js';

function NewKey({ agents, onMade }) {
  const [made, setMade] = useState(null);
  const { error, busy, submit } = useSubmit((form) => {
    const chosen = form.getAll('agent_ids');
    return api.post('api/v1/api-keys', { name: form.get('name'), agent_ids: chosen.length ? chosen : null });
  }, (key) => { setMade(key); onMade(); });
  return html`<section class="card settings-form" aria-labelledby="new-key">
    <h2 id="new-key">New API key</h2>
    ${made && html`<div class="shown-once" role="alert">
      <p><strong>Copy the key “${made.name}” now: it is shown only this once.</strong>${' '}
        AgentHub keeps only a digest of it; lost, it can only be revoked and replaced.</p>
      <${CopyField} label="API key" value=${made.key}/>
      <button type="button" onClick=${() => setMade(null)}>I have copied it</button>
    </div>`}
    <form onSubmit=${submit}>
      <${FormError} error=${error} fields=${['name', 'agent_ids']}/>
      <${Field} label="Name" name="name" required maxlength="200" autocomplete="off" error=${fieldError(error, 'name')}
        hint="What uses it, such as “CI” or “website”."/>
      ${agents.length > 0 && html`<fieldset class="choices">
        <legend>Only these agents (none ticked: every agent)</legend>
        ${agents.map((agent) => html`<label key=${agent.id}><input type="checkbox" name="agent_ids" value=${agent.id}/> ${agent.name || agent.id}
          <code>${agent.id}</code></label>`)}
        ${fieldError(error, 'agent_ids') && html`<small class="field-error">${fieldError(error, 'agent_ids')}</small>`}
      </fieldset>`}
      <button type="submit" class="primary" disabled=${busy}>Create key</button>
    </form>
  </section>`;
}

export default function ApiKeys() {
  const me = useMe();
  const read = useRead(() => api.get('api/v1/api-keys'));
  const agents = useRead(() => api.get('api/v1/agents', { query: { limit: 200 } }));
  const items = read.data?.items || [];
  return html`<div class="settings-tab">
    <section class="card" aria-labelledby="keys-title">
      <h2 id="keys-title">API keys</h2>
      <p class="hint">${isAdmin(me) ? 'Every key of the organisation.' : 'The keys you made.'}${' '}
        A key acts for the organisation as a member; send it as <code>Authorization: Bearer …</code>.</p>
      <${ListState} read=${read} items=${items} empty="No API keys yet.">
        <div class="table-wrap"><table class="stack-table">
          <thead><tr><th scope="col">Name</th><th scope="col">Key</th><th scope="col">Agents</th>
            <th scope="col">Created</th><th scope="col">Last used</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
          <tbody>${items.map((key) => html`<tr key=${key.id}>
            <th scope="row">${key.name}</th><td data-label="Key"><code>${key.prefix}…</code></td>
            <td data-label="Agents">${key.agent_ids ? key.agent_ids.join(', ') : 'all'}</td><td data-label="Created">${when(key.created_at)}</td>
            <td data-label="Last used">${key.last_used_at ? when(key.last_used_at) : 'never'}</td>
            <td class="actions"><${ConfirmButton} label="Revoke" confirm="Revoke now" what=${key.name}
              act=${async () => { await api.del(`api/v1/api-keys/${encodeURIComponent(key.id)}`); read.reload(); }}/></td>
          </tr>`)}</tbody>
        </table></div>
      </${ListState}>
    </section>
    <${NewKey} agents=${agents.data?.items || []} onMade=${read.reload}/>
  </div>`;
}
