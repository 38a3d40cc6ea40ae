// The list of bots: create one, import a JSON document (`agenthub.bot/v1`), export one as a
// file, delete one.
import { html, useEffect, useRef, useState } from '../../lib/ui.js';
import { api, ApiError } from '../../lib/api.js';
import { href, navigate } from '../../lib/router.js';
import { Field, FormError, fieldError } from '../../lib/forms.js';

function CreateBot({ onCreated }) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    setBusy(true); setError(null);
    try {
      const bot = await api.post('api/v1/bots', { name: new FormData(form).get('name') });
      form.reset();
      onCreated(bot);
    } catch (failure) { setError(failure); } finally { setBusy(false); }
  };
  return html`<form class="card bot-create" onSubmit=${submit} aria-labelledby="bot-create-title">
    <h2 id="bot-create-title">New bot</h2>
    <${FormError} error=${error} fields=${['name']}/>
    <${Field} label="Bot name" name="name" required maxlength="200" error=${fieldError(error, 'name')}/>
    <button type="submit" class="primary" disabled=${busy}>Create bot</button>
  </form>`;
}

function ImportBot({ onCreated }) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const file = new FormData(form).get('document');
    setBusy(true); setError(null);
    try {
      let document;
      try { document = JSON.parse(await file.text()); } catch {
        throw new ApiError(422, { code: 'invalid_input', message: 'The file is not JSON: choose a bot document exported from AgentHub.' });
      }
      const bot = await api.post('api/v1/bots/import', document);
      form.reset();
      onCreated(bot);
    } catch (failure) { setError(failure); } finally { setBusy(false); }
  };
  const details = error?.details?.filter((detail) => detail.field) || [];
  return html`<form class="card bot-import" onSubmit=${submit} aria-labelledby="bot-import-title">
    <h2 id="bot-import-title">Import a bot</h2>
    ${details.length > 0
      ? html`<div role="alert"><p class="form-error">The document was not imported:</p>
          <ul class="field-error">${details.map((d) => html`<li><code>${d.field}</code>: ${d.problem}</li>`)}</ul></div>`
      : html`<${FormError} error=${error}/>`}
    <${Field} label="Bot document (JSON)" name="document" type="file" accept="application/json,.json" required/>
    <button type="submit" disabled=${busy}>Import</button>
  </form>`;
}

/** The file an export is saved as: the bot's name made safe (letters, digits, dashes) and its id. */
export function exportFileName(bot) {
  const slug = (bot.name || '').normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase()
    .replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60).replace(/-+$/, '');
  return `${slug ? `${slug}-` : ''}${bot.id}.json`;
}

async function exportBot(bot) {
  const document = await api.get(`api/v1/bots/${encodeURIComponent(bot.id)}/export`);
  const link = Object.assign(window.document.createElement('a'), {
    href: URL.createObjectURL(new Blob([JSON.stringify(document, null, 2)], { type: 'application/json' })),
    download: exportFileName(bot),
  });
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href));
}

export function BotList() {
  const [bots, setBots] = useState(null);
  const [error, setError] = useState(null);
  const [notice, setNotice] = useState(null);
  const alive = useRef(true);

  const reload = () => api.get('api/v1/bots', { query: { limit: 500 } }).then(
    (answer) => { if (alive.current) { setBots(answer.items); setError(null); } },
    (failure) => alive.current && setError(failure),
  );
  useEffect(() => { reload(); return () => { alive.current = false; }; }, []);

  const act = async (work) => {
    setNotice(null);
    try { await work(); } catch (failure) { setNotice({ error: failure.message }); }
  };
  const remove = (bot) => act(async () => {
    if (!window.confirm(`Delete the bot “${bot.name}”? Its sessions and versions go with it.`)) return;
    await api.del(`api/v1/bots/${encodeURIComponent(bot.id)}`);
    setNotice({ ok: `Deleted “${bot.name}”.` });
    await reload();
  });

  return html`<section class="bots-list" aria-labelledby="bots-title">
    <h1 id="bots-title">Bots</h1>
    <p class="hint">Scenario bots answer from a graph of steps, without an LLM. Open one to edit it in the constructor.</p>
    ${notice?.error && html`<p class="form-error" role="alert">${notice.error}</p>`}
    ${notice?.ok && html`<p class="ok" role="status">${notice.ok}</p>`}
    <div class="bots-columns">
      <div class="bots-table card">
        ${error && html`<p class="form-error" role="alert">The bots could not be loaded: ${error.message}
          <button type="button" onClick=${reload}>Try again</button></p>`}
        ${!error && bots === null && html`<p class="loading" role="status">Loading bots…</p>`}
        ${bots && bots.length === 0 && html`<p class="empty">No bots yet: create one or import a document.</p>`}
        ${bots && bots.length > 0 && html`<div class="table-wrap"><table>
          <thead><tr><th scope="col">Name</th><th scope="col">Version</th><th scope="col">Draft</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
          <tbody>${bots.map((bot) => html`<tr key=${bot.id}>
            <td><a href=${href(`bots/${bot.id}`)}>${bot.name}</a><br/><small class="hint">${bot.id}</small></td>
            <td>${bot.published_version ? `v${bot.published_version}` : 'not published'}</td>
            <td>${bot.draft_changed ? html`<span class="badge">edited</span>` : html`<span class="badge running">published</span>`}</td>
            <td class="row-actions">
              <button type="button" onClick=${() => act(() => exportBot(bot))} aria-label=${`Export ${bot.name}`}>Export</button>
              <button type="button" class="danger" onClick=${() => remove(bot)} aria-label=${`Delete ${bot.name}`}>Delete</button>
            </td></tr>`)}
          </tbody></table></div>`}
      </div>
      <div class="bots-forms">
        <${CreateBot} onCreated=${(bot) => navigate(`bots/${bot.id}`)}/>
        <${ImportBot} onCreated=${(bot) => navigate(`bots/${bot.id}`)}/>
      </div>
    </div>
  </section>`;
}
