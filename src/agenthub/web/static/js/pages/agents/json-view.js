// The agent's name and settings as JSON, for anything the form lacks: checked here as JSON,
// then by the server as any save (its problems listed under the text).
import { html, useEffect, useState } from '../../lib/ui.js';
import { Field } from '../../lib/forms.js';

export function JsonView({ value, onSave, error, busy }) {
  const [text, setText] = useState(() => JSON.stringify(value, null, 2));
  const [invalid, setInvalid] = useState(null);
  const [open, setOpen] = useState(false);
  useEffect(() => { if (!open) setText(JSON.stringify(value, null, 2)); }, [value, open]);
  const save = async (event) => {
    event.preventDefault();
    let body;
    try {
      body = JSON.parse(text);
    } catch (problem) {
      setInvalid(`not valid JSON: ${problem.message}`);
      return;
    }
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      setInvalid('must be an object: {"name": ..., "settings": {...}}');
      return;
    }
    setInvalid(null);
    if (await onSave(body)) setOpen(false);
  };
  const problems = (error?.details || []).map(({ field, problem }) => (field ? `${field}: ${problem}` : problem));
  const serverProblem = error && (problems.length ? problems.join('\n') : error.message);
  return html`<form class="card agent-section" onSubmit=${save} aria-labelledby="agent-json-title">
    <h2 id="agent-json-title">JSON</h2>
    <p class="hint">The whole configuration as the API takes it, for what the form does not show.</p>
    <button type="button" aria-expanded=${open} onClick=${() => setOpen(!open)}>${open ? 'Hide JSON' : 'Edit as JSON'}</button>
    ${open && html`
      <${Field} as="textarea" class="mono agent-json" label="Configuration (JSON)" rows="18" spellcheck="false"
        value=${text} onInput=${(event) => { setText(event.currentTarget.value); setInvalid(null); }}
        error=${invalid || serverProblem}/>
      <div class="agent-actions">
        <button type="submit" class="primary" disabled=${busy}>Save JSON</button>
        <button type="button" onClick=${() => { setText(JSON.stringify(value, null, 2)); setInvalid(null); }}>Reset</button>
      </div>`}
  </form>`;
}
