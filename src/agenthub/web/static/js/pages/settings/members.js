// Members and invitations. Any member sees who is in the organisation; owners and admins
// change roles, remove members and invite (the link `#/invite/<token>` of this console, shown
// once); only an owner makes or changes an owner (the server says so when not).
import { html, useState } from '../../lib/ui.js';
import { api } from '../../lib/api.js';
import { Field, FormError, fieldError } from '../../lib/forms.js';
import { isAdmin, useMe } from '../../lib/session.js';
import { ConfirmButton, CopyField, ListState, NotAllowed, useRead, useSubmit, when } from './shared.js';

const ROLES = ['member', 'admin', 'owner'];
const DAY = 86_400;

function orgPath(me, rest = '') {
  return `api/v1/orgs/${encodeURIComponent(me.org_id)}${rest}`;
}

/** The console's own address of an invitation: where the invitee registers into the organisation. */
export function invitationLink(token) {
  const page = new URL(document.baseURI);
  page.hash = `#/invite/${encodeURIComponent(token)}`;
  return page.toString();
}

function RoleSelect({ me, member, onChanged }) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const change = async (event) => {
    const role = event.currentTarget.value;
    setBusy(true);
    setError(null);
    try {
      await api.patch(orgPath(me, `/members/${encodeURIComponent(member.id)}`), { role });
      onChanged();
    } catch (failure) {
      setError(failure);
      onChanged();
    } finally {
      setBusy(false);
    }
  };
  return html`<span class="role-select">
    <select aria-label=${`Role of ${member.email}`} value=${member.role} disabled=${busy} onChange=${change}>
      ${ROLES.map((role) => html`<option value=${role}>${role}</option>`)}
    </select>
    ${error && html`<small class="field-error" role="alert">${error.message}</small>`}
  </span>`;
}

function Members({ me, admin }) {
  const read = useRead(() => api.get(orgPath(me, '/members')));
  const items = read.data?.items || [];
  return html`<section class="card" aria-labelledby="members-title">
    <h2 id="members-title">Members</h2>
    <${ListState} read=${read} items=${items} empty="No members.">
      <div class="table-wrap"><table class="stack-table">
        <thead><tr><th scope="col">E-mail</th><th scope="col">Name</th><th scope="col">Role</th><th scope="col">Joined</th>
          ${admin && html`<th scope="col"><span class="sr-only">Actions</span></th>`}</tr></thead>
        <tbody>${items.map((member) => html`<tr key=${member.id}>
          <th scope="row">${member.email}${member.id === me.id && html` <span class="badge">you</span>`}</th>
          <td data-label="Name">${member.username}</td>
          <td data-label="Role">${admin && member.id !== me.id ? html`<${RoleSelect} me=${me} member=${member} onChanged=${read.reload}/>` : member.role}</td>
          <td data-label="Joined">${when(member.created_at)}</td>
          ${admin && html`<td class="actions">${member.id !== me.id && html`<${ConfirmButton} label="Remove" confirm="Remove and delete the account"
            what=${member.email} act=${async () => {
              await api.del(orgPath(me, `/members/${encodeURIComponent(member.id)}`));
              read.reload();
            }}/>`}</td>`}
        </tr>`)}</tbody>
      </table></div>
    </${ListState}>
  </section>`;
}

function NewInvitation({ me, onMade }) {
  const [made, setMade] = useState(null);
  const { error, busy, submit } = useSubmit((form) => api.post(orgPath(me, '/invitations'), {
    email: form.get('email') || null,
    role: form.get('role'),
    max_uses: Number(form.get('max_uses') || 1),
    expires_in: Number(form.get('expires_days') || 7) * DAY,
  }), (invitation) => { setMade(invitation); onMade(); });
  const fields = ['email', 'role', 'max_uses', 'expires_in'];
  return html`<section class="card settings-form" aria-labelledby="new-invitation">
    <h2 id="new-invitation">Invite someone</h2>
    ${made && html`<div class="shown-once" role="alert">
      <p><strong>Send this link to ${made.email || 'the person you invite'}: it is shown only this once.</strong>${' '}
        It makes a ${made.role}, ${made.max_uses === 1 ? 'once' : `up to ${made.max_uses} times`}, until ${when(made.expires_at)}.</p>
      <${CopyField} label="Invitation link" value=${invitationLink(made.token)}/>
      <button type="button" onClick=${() => setMade(null)}>Done</button>
    </div>`}
    <form onSubmit=${submit}>
      <${FormError} error=${error} fields=${fields}/>
      <${Field} label="E-mail (optional)" name="email" type="email" autocomplete="off" error=${fieldError(error, 'email')}
        hint="Only this address may use it; empty: whoever has the link."/>
      <div class="inline-fields">
        <${Field} as="select" label="Role" name="role" error=${fieldError(error, 'role')}>
          ${ROLES.map((role) => html`<option value=${role}>${role}</option>`)}
        </${Field}>
        <${Field} label="Uses" name="max_uses" type="number" min="1" max="10000" defaultValue="1" error=${fieldError(error, 'max_uses')}/>
        <${Field} label="Valid for (days)" name="expires_days" type="number" min="1" max="365" defaultValue="7"
          error=${fieldError(error, 'expires_in')}/>
      </div>
      <button type="submit" class="primary" disabled=${busy}>Create invitation</button>
    </form>
  </section>`;
}

function Invitations({ me }) {
  const read = useRead(() => api.get(orgPath(me, '/invitations')));
  const items = read.data?.items || [];
  return html`<section class="card" aria-labelledby="invitations-title">
    <h2 id="invitations-title">Invitations</h2>
    <${ListState} read=${read} items=${items} empty="No invitations.">
      <div class="table-wrap"><table class="stack-table">
        <thead><tr><th scope="col">For</th><th scope="col">Role</th><th scope="col">Used</th><th scope="col">Expires</th>
          <th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
        <tbody>${items.map((invitation) => html`<tr key=${invitation.id}>
          <th scope="row">${invitation.email || 'anyone with the link'}</th><td data-label="Role">${invitation.role}</td>
          <td data-label="Used">${invitation.uses} of ${invitation.max_uses}${invitation.uses >= invitation.max_uses && html` <span class="badge">used up</span>`}</td>
          <td data-label="Expires">${when(invitation.expires_at)}</td>
          <td class="actions"><${ConfirmButton} label="Delete" confirm="Revoke the invitation" what=${`invitation ${invitation.email || invitation.id}`}
            act=${async () => { await api.del(orgPath(me, `/invitations/${encodeURIComponent(invitation.id)}`)); read.reload(); }}/></td>
        </tr>`)}</tbody>
      </table></div>
    </${ListState}>
  </section>
  <${NewInvitation} me=${me} onMade=${read.reload}/>`;
}

export default function MembersTab() {
  const me = useMe();
  const admin = isAdmin(me);
  return html`<div class="settings-tab">
    <${Members} me=${me} admin=${admin}/>
    ${admin ? html`<${Invitations} me=${me}/>`
      : html`<${NotAllowed}>Only the organisation's owners and admins change roles, remove members and invite.</${NotAllowed}>`}
  </div>`;
}
