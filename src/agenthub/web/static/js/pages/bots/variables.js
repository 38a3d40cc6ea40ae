// The bot's variables (`bot.*`): name and value pairs; a value that reads as JSON (a number,
// true, a list...) is kept as such, anything else as text.
import { html, useState } from '../../lib/ui.js';
import { api } from '../../lib/api.js';
import { FormError } from '../../lib/forms.js';

const shown = (value) => (typeof value === 'string' ? value : JSON.stringify(value));
function parsed(text) {
  try { const value = JSON.parse(text); return typeof value === 'string' ? text : value; } catch { return text; }
}

export function VariablesEditor({ bot, run }) {
  const [rows, setRows] = useState(Object.entries(bot.variables || {}).map(([name, value]) => ({ name, value: shown(value) })));
  const [error, setError] = useState(null);
  const set = (index, patch) => { setRows(rows.map((r, i) => (i === index ? { ...r, ...patch } : r))); };
  const save = async (event) => {
    event.preventDefault();
    setError(null);
    const variables = Object.fromEntries(rows.filter((r) => r.name.trim()).map((r) => [r.name.trim(), parsed(r.value)]));
    await run(() => api.patch(`api/v1/bots/${bot.id}`, { variables }), { onError: setError, ok: 'Variables saved.' });
  };
  const problems = error?.details?.filter((d) => d.field) || [];
  return html`<form class="side-panel variables-editor" onSubmit=${save} aria-labelledby="variables-title">
    <h2 id="variables-title">Bot variables</h2>
    <p class="hint">Used as {$bot.name$} in messages and rules.</p>
    <${FormError} error=${error}/>
    ${problems.map((d) => html`<p class="field-error">${d.field}: ${d.problem}</p>`)}
    ${rows.length === 0 && html`<p class="hint">No variables.</p>`}
    <ol class="variable-rows">${rows.map((row, index) => html`<li key=${index}>
      <label>Name <input value=${row.name} onInput=${(e) => set(index, { name: e.currentTarget.value })}/></label>
      <label>Value <input value=${row.value} onInput=${(e) => set(index, { value: e.currentTarget.value })}/></label>
      <button type="button" class="link danger" aria-label=${`Remove variable ${row.name || index + 1}`}
        onClick=${() => setRows(rows.filter((_, i) => i !== index))}>Remove</button>
    </li>`)}</ol>
    <div class="panel-actions">
      <button type="button" onClick=${() => setRows([...rows, { name: '', value: '' }])}>Add variable</button>
      <button type="submit" class="primary">Save variables</button>
    </div>
  </form>`;
}
