// Your notification channels (e-mail addresses, Telegram chats, tried by priority), a test
// notification to try them, and the delivery log. A user's own: API keys have none.
import { html, useState } from '../../lib/ui.js';
import { api } from '../../lib/api.js';
import { Field, FormError, fieldError } from '../../lib/forms.js';
import { ConfirmButton, ListState, useRead, useSubmit, when } from './shared.js';

function NewChannel({ onMade }) {
  const [type, setType] = useState('email');
  const { error, busy, submit } = useSubmit((form) => {
    const priority = form.get('priority');
    const body = { type, ...(priority !== '' ? { priority: Number(priority) } : {}) };
    if (type === 'email') body.address = form.get('address');
    else body.chat_id = String(form.get('chat_id')).trim();
    return api.post('api/v1/notification-channels', body);
  }, onMade);
  return html`<form class="card settings-form" onSubmit=${submit} aria-labelledby="new-channel">
    <h2 id="new-channel">New channel</h2>
    <${FormError} error=${error} fields=${['type', 'address', 'chat_id', 'priority']}/>
    <div class="inline-fields">
      <${Field} as="select" label="Type" name="type" value=${type} onChange=${(e) => setType(e.currentTarget.value)}
        error=${fieldError(error, 'type')}>
        <option value="email">E-mail</option><option value="telegram">Telegram</option>
      </${Field}>
      ${type === 'email'
        ? html`<${Field} label="E-mail address" name="address" type="email" required autocomplete="email" error=${fieldError(error, 'address')}/>`
        : html`<${Field} label="Telegram chat id" name="chat_id" required autocomplete="off" error=${fieldError(error, 'chat_id')}
            hint="Your chat with the platform's bot (send it /start first), a group's id or @channel."/>`}
      <${Field} label="Priority" name="priority" type="number" min="0" max="1000000" placeholder="100"
        hint="The lowest is tried first." error=${fieldError(error, 'priority')}/>
    </div>
    <button type="submit" class="primary" disabled=${busy}>Add channel</button>
  </form>`;
}

function TestNotification({ onSent }) {
  const [sent, setSent] = useState(null);
  const { error, busy, submit } = useSubmit((form) => api.post('api/v1/notifications', {
    subject: form.get('subject') || 'Test from the AgentHub console',
    body: form.get('body'),
  }), (rows) => { setSent(rows); onSent(); });
  return html`<form class="card settings-form" onSubmit=${submit} aria-labelledby="test-notification">
    <h2 id="test-notification">Send yourself a notification</h2>
    <${FormError} error=${error} fields=${['subject', 'body']}/>
    <${Field} label="Subject" name="subject" maxlength="200" placeholder="Test from the AgentHub console" error=${fieldError(error, 'subject')}/>
    <${Field} as="textarea" label="Text" name="body" required error=${fieldError(error, 'body')}/>
    <button type="submit" disabled=${busy}>Send</button>
    ${sent && html`<p class="ok" role="status">Queued for ${sent.length} ${sent.length === 1 ? 'channel' : 'channels'}: see the delivery log.</p>`}
  </form>`;
}

function Deliveries({ read }) {
  const items = read.data || [];
  return html`<section class="card" aria-labelledby="deliveries-title">
    <div class="section-head">
      <h2 id="deliveries-title">Delivery log</h2>
      <button type="button" onClick=${read.reload} disabled=${read.loading}>Refresh</button>
    </div>
    <${ListState} read=${read} items=${items} empty="Nothing was sent to you yet.">
      <div class="table-wrap"><table class="stack-table">
        <thead><tr><th scope="col">Queued</th><th scope="col">Subject</th><th scope="col">Channel</th>
          <th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Source</th></tr></thead>
        <tbody>${items.map((row) => html`<tr key=${row.id}>
          <td data-label="Queued">${when(row.created_at)}</td><th scope="row">${row.subject}</th><td data-label="Channel">${row.channel}</td>
          <td data-label="Status"><span class=${`badge ${row.status === 'sent' ? 'running' : row.status === 'failed' ? 'error' : ''}`}>${row.status}</span>
            ${row.error && html`<small class="delivery-error">${row.error}</small>`}</td>
          <td data-label="Attempts">${row.attempts}</td><td data-label="Source">${row.source || ''}</td>
        </tr>`)}</tbody>
      </table></div>
    </${ListState}>
  </section>`;
}

export default function Notifications() {
  const channels = useRead(() => api.get('api/v1/notification-channels'));
  const deliveries = useRead(() => api.get('api/v1/notifications/deliveries', { query: { limit: 100 } }));
  const items = channels.data || [];
  return html`<div class="settings-tab">
    <section class="card" aria-labelledby="channels-title">
      <h2 id="channels-title">Notification channels</h2>
      <p class="hint">Where calendar answers and other notifications reach you: the first that works, by priority.</p>
      <${ListState} read=${channels} items=${items} empty="No channels yet: add one below.">
        <div class="table-wrap"><table class="stack-table">
          <thead><tr><th scope="col">Priority</th><th scope="col">Type</th><th scope="col">Where</th><th scope="col">Added</th>
            <th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
          <tbody>${items.map((channel) => html`<tr key=${channel.id}>
            <td data-label="Priority">${channel.priority}</td><td data-label="Type">${channel.type}</td><th scope="row">${channel.address || channel.chat_id}</th>
            <td data-label="Added">${when(channel.created_at)}</td>
            <td class="actions"><${ConfirmButton} label="Delete" confirm="Delete channel" what=${channel.address || channel.chat_id}
              act=${async () => { await api.del(`api/v1/notification-channels/${encodeURIComponent(channel.id)}`); channels.reload(); }}/></td>
          </tr>`)}</tbody>
        </table></div>
      </${ListState}>
    </section>
    <${NewChannel} onMade=${channels.reload}/>
    ${items.length > 0 && html`<${TestNotification} onSent=${deliveries.reload}/>`}
    <${Deliveries} read=${deliveries}/>
  </div>`;
}
