// The bot's HTTP requests, which `response` groups make: listed, added, changed and deleted
// here. `{$scope.key$}` is substituted in a request's URL, headers, params and body when a
// group makes it; header values read back as `***`, and a `***` sent back keeps the value.
import { html, useState } from '../../lib/ui.js';
import { api } from '../../lib/api.js';
import { Field, FormError, fieldError, parsedJson } from '../../lib/forms.js';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'];
const BODY_TYPES = [['json', 'JSON'], ['form', 'form fields'], ['multipart', 'multipart (files)']];
const NAMED_FIELDS = ['name', 'key', 'method', 'url', 'headers', 'params', 'body', 'body_type', 'timeout'];

const shownJson = (value, empty) => (value === undefined || value === null ? empty : JSON.stringify(value, null, 2));

export function requestLabel(request) {
  return request.name || request.key || request.id;
}

function RequestForm({ botId, request, run, onDone }) {
  const [name, setName] = useState(request?.name || '');
  const [key, setKey] = useState(request?.key || '');
  const [method, setMethod] = useState(request?.method || 'GET');
  const [url, setUrl] = useState(request?.url || '');
  const [headers, setHeaders] = useState(shownJson(request?.headers, '{}'));
  const [params, setParams] = useState(shownJson(request?.params, '{}'));
  const [bodyType, setBodyType] = useState(request?.body_type || 'json');
  const [body, setBody] = useState(shownJson(request?.body, ''));
  const [seconds, setSeconds] = useState(String(request?.timeout ?? 10));
  const [error, setError] = useState(null);

  const save = async (event) => {
    event.preventDefault();
    setError(null);
    let fields;
    try {
      fields = {
        name, key: key.trim() || null, method, url, body_type: bodyType, timeout: Number(seconds),
        headers: parsedJson(headers, 'The headers', {}), params: parsedJson(params, 'The params', {}),
        body: parsedJson(body, 'The body', null),
      };
    } catch (problem) { setError({ message: problem.message }); return; }
    const saved = await run(
      () => (request ? api.patch(`api/v1/requests/${request.id}`, fields) : api.post('api/v1/requests', { bot_id: botId, ...fields })),
      { onError: setError, ok: request ? 'Request saved.' : 'Request added.' },
    );
    if (saved) onDone();
  };
  const others = (error?.details || []).filter((d) => d.field && !NAMED_FIELDS.includes(String(d.field)));
  const title = request ? `Request “${requestLabel(request)}”` : 'New request';

  return html`<form class="request-form" onSubmit=${save} aria-label=${title}>
    <h3>${title}</h3>
    <${FormError} error=${error} fields=${NAMED_FIELDS}/>
    ${others.map((d) => html`<p class="field-error">${d.field}: ${d.problem}</p>`)}
    <${Field} label="Name" value=${name} error=${fieldError(error, 'name')} onInput=${(e) => setName(e.currentTarget.value)}/>
    <${Field} label="Key (optional)" value=${key} error=${fieldError(error, 'key')}
      hint="Its name in the bot's document, unique in the bot." onInput=${(e) => setKey(e.currentTarget.value)}/>
    <${Field} as="select" label="Method" value=${method} error=${fieldError(error, 'method')}
      onChange=${(e) => setMethod(e.currentTarget.value)}>
      ${METHODS.map((m) => html`<option value=${m}>${m}</option>`)}
    </${Field}>
    <${Field} label="URL" value=${url} required error=${fieldError(error, 'url')}
      hint="For example https://api.example.com/weather?city={$session.city$}" onInput=${(e) => setUrl(e.currentTarget.value)}/>
    <${Field} as="textarea" class="mono" rows="3" label="Headers (JSON: name → value)" value=${headers}
      error=${fieldError(error, 'headers')} hint="Values are shown as *** once saved; leave *** to keep one."
      onInput=${(e) => setHeaders(e.currentTarget.value)}/>
    <${Field} as="textarea" class="mono" rows="3" label="Query params (JSON)" value=${params}
      error=${fieldError(error, 'params')} onInput=${(e) => setParams(e.currentTarget.value)}/>
    <${Field} as="select" label="Body type" value=${bodyType} error=${fieldError(error, 'body_type')}
      onChange=${(e) => setBodyType(e.currentTarget.value)}>
      ${BODY_TYPES.map(([value, words]) => html`<option value=${value}>${words}</option>`)}
    </${Field}>
    <${Field} as="textarea" class="mono" rows="3" label="Body (JSON, optional)" value=${body}
      error=${fieldError(error, 'body')} onInput=${(e) => setBody(e.currentTarget.value)}/>
    <${Field} label="Timeout (seconds)" type="number" step="any" min="0" value=${seconds}
      error=${fieldError(error, 'timeout')} onInput=${(e) => setSeconds(e.currentTarget.value)}/>
    <div class="panel-actions">
      <button type="submit" class="primary">${request ? 'Save request' : 'Add request'}</button>
      <button type="button" onClick=${onDone}>Cancel</button>
    </div>
  </form>`;
}

export function RequestsEditor({ data, run }) {
  const [editing, setEditing] = useState(null); // a request's id, or 'new'
  const open = editing && editing !== 'new' ? data.requests.find((r) => r.id === editing) : null;
  const remove = (request) => run(() => api.del(`api/v1/requests/${request.id}`), { ok: 'Request deleted.' });

  return html`<section class="side-panel requests-editor" aria-labelledby="requests-title">
    <h2 id="requests-title">HTTP requests</h2>
    <p class="hint">What a group that searches “an HTTP request” makes; its result (status, headers, json, text) is what its connections test.</p>
    ${data.requests.length === 0 && html`<p class="hint">No requests yet.</p>`}
    <ul class="request-list">${data.requests.map((r) => html`<li key=${r.id}>
      <span><strong>${requestLabel(r)}</strong> <code>${r.method} ${r.url}</code></span>
      <span class="row-actions">
        <button type="button" class="link" aria-label=${`Edit request ${requestLabel(r)}`} onClick=${() => setEditing(r.id)}>Edit</button>
        <button type="button" class="link danger" aria-label=${`Delete request ${requestLabel(r)}`} onClick=${() => remove(r)}>Delete</button>
      </span></li>`)}</ul>
    ${editing
      ? html`<${RequestForm} key=${editing} botId=${data.bot.id} request=${open} run=${run} onDone=${() => setEditing(null)}/>`
      : html`<div class="panel-actions"><button type="button" onClick=${() => setEditing('new')}>Add request</button></div>`}
  </section>`;
}
