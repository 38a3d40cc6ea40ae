// The side panel of a connection: where it goes, its priority, the kinds of message it
// admits (filters) and its rules.
import { html, useState } from '../../lib/ui.js';
import { api } from '../../lib/api.js';
import { Field, FormError, fieldError } from '../../lib/forms.js';
import { RulesEditor, rulesProblems } from './rules-editor.js';
import { BOT_LEVEL, sourceStepId, stepLabel } from './model.js';

const FILTERS = [['text', 'Typed text'], ['button', 'Button presses'], ['attachment', 'Attachments']];

export function ConnectionPanel({ connection, data, run, onSelect }) {
  const [next, setNext] = useState(connection.next_step_id || '');
  const [priority, setPriority] = useState(String(connection.priority));
  const [filters, setFilters] = useState(connection.filters);
  const [rules, setRules] = useState(connection.rules || {});
  const [error, setError] = useState(null);
  const source = data.steps.find((s) => s.id === sourceStepId(data, connection));
  const ruleProblems = rulesProblems(error);

  const save = async (event) => {
    event.preventDefault();
    setError(null);
    await run(() => api.patch(`api/v1/connections/${connection.id}`, {
      next_step_id: next || null, priority: Number(priority), filters, rules,
    }), { onError: setError, ok: 'Connection saved.' });
  };
  const remove = () => run(async () => {
    await api.del(`api/v1/connections/${connection.id}`);
    onSelect(source ? { kind: 'step', id: source.id } : { kind: 'bot-level', id: BOT_LEVEL });
  });

  return html`<section class="side-panel connection-panel" aria-labelledby="connection-panel-title">
    <h2 id="connection-panel-title">Connection from ${source ? stepLabel(source) : 'any step (bot level)'}</h2>
    <p><button type="button" class="link" onClick=${() => onSelect(source ? { kind: 'step', id: source.id } : { kind: 'bot-level', id: BOT_LEVEL })}>
      ${source ? 'Back to the step' : 'Back to the bot-level groups'}</button></p>
    <form onSubmit=${save}>
      <${FormError} error=${error} fields=${['next_step_id', 'priority', 'filters', 'rules']}/>
      <${Field} as="select" label="Next step" value=${next} error=${fieldError(error, 'next_step_id')}
        onChange=${(e) => setNext(e.currentTarget.value)}>
        <option value="">(stay in the step)</option>
        ${data.steps.map((s) => html`<option value=${s.id}>${stepLabel(s)}</option>`)}
      </${Field}>
      <${Field} label="Priority" type="number" step="1" value=${priority} error=${fieldError(error, 'priority')}
        hint="Higher is tried first." onInput=${(e) => setPriority(e.currentTarget.value)}/>
      <fieldset class="filters"><legend>Admits</legend>
        ${FILTERS.map(([value, words]) => html`<label class="inline"><input type="checkbox" checked=${filters.includes(value)}
          onChange=${(e) => setFilters(e.currentTarget.checked ? [...filters, value] : filters.filter((f) => f !== value))}/> ${words}</label>`)}
        <small class="hint">None checked: every message.</small>
        ${fieldError(error, 'filters') && html`<small class="field-error">${fieldError(error, 'filters')}</small>`}
      </fieldset>
      <${RulesEditor} value=${rules} botVariables=${data.bot.variables} onChange=${setRules} problems=${ruleProblems.placed}/>
      ${ruleProblems.rest.map((problem) => html`<p class="field-error">Rules: ${problem}</p>`)}
      <div class="panel-actions">
        <button type="submit" class="primary">Save connection</button>
        <button type="button" class="danger" onClick=${remove}>Delete connection</button>
      </div>
    </form>
  </section>`;
}
