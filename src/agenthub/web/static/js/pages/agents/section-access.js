// Who may chat with the agent (settings.access) and, for `authorized`, its list of authorisations
// (owners and admins manage it: POST/GET/DELETE /api/v1/agents/{id}/authorizations).
import { html, useEffect, useState } from '../../lib/ui.js';
import { api } from '../../lib/api.js';
import { useMe, isAdmin } from '../../lib/session.js';
import { fieldError } from '../../lib/forms.js';
import { agentPath } from './paths.js';
import { Section, Select, TextInput } from './controls.js';

const ACCESS = [
  ['organization', 'Organisation: any member'],
  ['public', 'Public: anyone, without logging in too'],
  ['authorized', 'Authorised: only those on its list'],
];
const CHANNELS = [['web', 'Web (a user or API key id)'], ['telegram', 'Telegram (a Telegram user id)']];

function Authorizations({ agentId }) {
  const [items, setItems] = useState(null);
  const [loadError, setLoadError] = useState(null);
  const [channel, setChannel] = useState('web');
  const [who, setWho] = useState('');
  const [error, setError] = useState(null);
  const load = () => api.get(agentPath(agentId, '/authorizations')).then(
    (answer) => { setItems(answer.items); setLoadError(null); }, setLoadError,
  );
  useEffect(() => { load(); }, [agentId]);
  const add = async () => {
    setError(null);
    try {
      await api.post(agentPath(agentId, '/authorizations'), { channel, platform_user_id: who });
      setWho('');
      load();
    } catch (failure) {
      setError(failure);
    }
  };
  const revoke = async (item) => {
    try {
      await api.del(agentPath(agentId, `/authorizations/${encodeURIComponent(item.id)}`));
      load();
    } catch (failure) {
      setLoadError(failure);
    }
  };
  return html`<div class="agent-subpanel">
    <h3>Who is authorised</h3>
    ${loadError && html`<p class="form-error" role="alert">${loadError.message}</p>`}
    ${items && !items.length && html`<p class="hint">No one yet: only those added here may chat with it.</p>`}
    ${items && items.length > 0 && html`<ul class="agent-plain-list">${items.map((item) => html`<li>
      <span>${item.channel}: <code>${item.platform_user_id}</code></span>
      <button type="button" class="link" onClick=${() => revoke(item)}
        aria-label=${`Revoke ${item.channel} ${item.platform_user_id}`}>Revoke</button></li>`)}</ul>`}
    <div class="agent-inline" onKeyDown=${(event) => { if (event.key === 'Enter') { event.preventDefault(); add(); } }}>
      <${Select} label="Channel" value=${channel} options=${CHANNELS} onValue=${setChannel} error=${fieldError(error, 'channel')}/>
      <${TextInput} label="User id" value=${who} onValue=${setWho} error=${fieldError(error, 'platform_user_id')}/>
      <button type="button" onClick=${add} disabled=${!who.trim()}>Authorise</button>
    </div>
    ${error && !error.details.length && html`<p class="form-error" role="alert">${error.message}</p>`}
  </div>`;
}

export function AccessSection({ agentId, settings, set, problems }) {
  const me = useMe();
  return html`<${Section} id="access" title="Access">
    <${Select} label="Who may chat with it" value=${settings.access || 'organization'} options=${ACCESS}
      onValue=${(value) => set('access', value)} error=${problems['settings.access']}/>
    ${settings.access === 'authorized' && agentId && isAdmin(me) && html`<${Authorizations} agentId=${agentId}/>`}
    ${settings.access === 'authorized' && agentId && !isAdmin(me)
      && html`<p class="hint">Owners and admins manage who is authorised.</p>`}
    ${settings.access === 'authorized' && !agentId && html`<p class="hint">Save the agent, then add who is authorised.</p>`}
  </${Section}>`;
}
