// Your calendar: events that have an agent run a prompt once or on a cron schedule, their
// answers sent through your notification channels.
import { html, useState } from '../../lib/ui.js';
import { api } from '../../lib/api.js';
import { Field, FormError, fieldError } from '../../lib/forms.js';
import { ConfirmButton, ListState, useRead, useSubmit, when } from './shared.js';

const HERE = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

function soon() {
  const date = new Date(Date.now() + 3_600_000);
  date.setMinutes(0, 0, 0);
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:00`;
}

function NewEvent({ agents, onMade }) {
  const [made, setMade] = useState(null);
  const { error, busy, submit } = useSubmit((form) => {
    const cron = String(form.get('cron') || '').trim();
    return api.post('api/v1/calendar/events', {
      title: form.get('title'), agent_id: form.get('agent_id'), prompt: form.get('prompt'),
      start_at: form.get('start_at'), timezone: String(form.get('timezone') || '').trim() || 'UTC',
      ...(cron ? { cron } : {}),
    });
  }, (event) => { setMade(event); onMade(); });
  const fields = ['title', 'agent_id', 'prompt', 'start_at', 'timezone', 'cron'];
  return html`<form class="card settings-form" onSubmit=${submit} aria-labelledby="new-event">
    <h2 id="new-event">New event</h2>
    <${FormError} error=${error} fields=${fields}/>
    <${Field} label="Title" name="title" required maxlength="200" error=${fieldError(error, 'title')}/>
    <${Field} as="select" label="Agent" name="agent_id" required error=${fieldError(error, 'agent_id')}>
      ${agents.length === 0 && html`<option value="">No agent yet</option>`}
      ${agents.map((agent) => html`<option value=${agent.id}>${agent.name || agent.id} (${agent.id})</option>`)}
    </${Field}>
    <${Field} as="textarea" label="Prompt" name="prompt" required error=${fieldError(error, 'prompt')}/>
    <div class="inline-fields">
      <${Field} label="Starts" name="start_at" type="datetime-local" required defaultValue=${soon()} error=${fieldError(error, 'start_at')}/>
      <${Field} label="Time zone" name="timezone" defaultValue=${HERE} autocomplete="off" error=${fieldError(error, 'timezone')}
        hint="An IANA name, such as Europe/Berlin."/>
      <${Field} label="Repeat (cron, optional)" name="cron" autocomplete="off" placeholder="0 9 * * 1-5" error=${fieldError(error, 'cron')}
        hint="minute hour day month weekday; empty: once."/>
    </div>
    <button type="submit" class="primary" disabled=${busy || agents.length === 0}>Create event</button>
    ${made && html`<p class="ok" role="status">“${made.title}” created${made.next_run_at ? `; next run ${when(made.next_run_at)}` : ''}.</p>`}
  </form>`;
}

export default function Calendar() {
  const events = useRead(() => api.get('api/v1/calendar/events'));
  const agents = useRead(() => api.get('api/v1/agents', { query: { limit: 200 } }));
  const items = events.data?.items || [];
  return html`<div class="settings-tab">
    <section class="card" aria-labelledby="events-title">
      <h2 id="events-title">Calendar</h2>
      <p class="hint">An event has an agent answer a prompt at its time; the answer comes through your notification channels.</p>
      <${ListState} read=${events} items=${items} empty="No events yet.">
        <div class="table-wrap"><table class="stack-table">
          <thead><tr><th scope="col">Title</th><th scope="col">Agent</th><th scope="col">Schedule</th>
            <th scope="col">Next run</th><th scope="col">Last run</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
          <tbody>${items.map((event) => html`<tr key=${event.id}>
            <th scope="row">${event.title}${!event.enabled && html` <span class="badge">off</span>`}</th><td data-label="Agent">${event.agent_id}</td>
            <td data-label="Schedule">${event.cron ? html`<code>${event.cron}</code> (${event.timezone})` : `once, ${String(event.start_at).replace("T", " ").slice(0, 16)} (${event.timezone})`}</td>
            <td data-label="Next run">${event.next_run_at ? when(event.next_run_at) : '—'}</td><td data-label="Last run">${event.last_run_at ? when(event.last_run_at) : '—'}</td>
            <td class="actions"><${ConfirmButton} label="Delete" confirm="Delete event" what=${event.title}
              act=${async () => { await api.del(`api/v1/calendar/events/${encodeURIComponent(event.id)}`); events.reload(); }}/></td>
          </tr>`)}</tbody>
        </table></div>
      </${ListState}>
    </section>
    ${agents.error ? html`<p class="form-error" role="alert">The agents could not be read: ${agents.error.message}</p>`
      : html`<${NewEvent} agents=${agents.data?.items || []} onMade=${events.reload}/>`}
  </div>`;
}
