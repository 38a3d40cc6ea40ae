// The side panel of a step: its name, message text, buttons widget, whether it is a proxy
// step, and its connection groups with their connections (each opens in the connection panel).
import { html, useState } from '../../lib/ui.js';
import { api } from '../../lib/api.js';
import { Field, FormError, fieldError } from '../../lib/forms.js';
import { connectionLabel, stepLabel } from './model.js';
import { GroupSettings } from './group-settings.js';
import { TemplateInstanceEditor } from './template-instance.js';

function ButtonsEditor({ buttons, onChange, error }) {
  const set = (index, patch) => onChange(buttons.map((b, i) => (i === index ? { ...b, ...patch } : b)));
  return html`<fieldset class="buttons-editor">
    <legend>Buttons</legend>
    ${buttons.length === 0 && html`<p class="hint">No buttons.</p>`}
    <ol>${buttons.map((button, index) => html`<li key=${index} class="button-row">
      <${Field} label=${`Button ${index + 1} text`} value=${button.text} required maxlength="200"
        error=${fieldError(error, `message.widget.buttons.${index}.text`)}
        onInput=${(e) => set(index, { text: e.currentTarget.value })}/>
      <${Field} label=${`Button ${index + 1} value`} value=${button.value ?? ''} maxlength="200" hint="Sent when pressed (default: the text)"
        error=${fieldError(error, `message.widget.buttons.${index}.value`)}
        onInput=${(e) => set(index, { value: e.currentTarget.value })}/>
      <button type="button" class="link danger" onClick=${() => onChange(buttons.filter((_, i) => i !== index))}
        aria-label=${`Remove button ${index + 1}`}>Remove</button>
    </li>`)}</ol>
    <button type="button" onClick=${() => onChange([...buttons, { text: '', value: '' }])}>Add button</button>
  </fieldset>`;
}

function messageOf(step, text, buttons) {
  const cleaned = buttons.map(({ text: label, value }) => (value ? { text: label, value } : { text: label }));
  return { ...step.message, text, widget: cleaned.length ? { ...(step.message.widget || {}), buttons: cleaned } : null };
}

function GroupItem({ group, index, data, run, onSelect }) {
  const connections = data.connections.filter((c) => c.group_id === group.id);
  const stepName = (id) => stepLabel(data.steps.find((s) => s.id === id) || { name: id || 'stays' });
  return html`<li class="group-item card">
    <div class="group-head">
      <h4>Group ${index + 1}: ${group.search_type}</h4>
      <button type="button" class="link danger" aria-label=${`Delete group ${index + 1}`}
        onClick=${() => run(() => api.del(`api/v1/connection_groups/${group.id}`))}>Delete group</button>
    </div>
    ${connections.length === 0 && html`<p class="hint">No connections in this group.</p>`}
    <ul class="connection-list">${connections.map((c) => html`<li key=${c.id}>
      <button type="button" class="link" onClick=${() => onSelect({ kind: 'connection', id: c.id })}>
        → ${c.next_step_id ? stepName(c.next_step_id) : 'stay'}: ${connectionLabel(c)}</button></li>`)}</ul>
    <details class="group-details">
      <summary>Settings of group ${index + 1}</summary>
      <${GroupSettings} key=${group.updated_at} group=${group} data=${data} run=${run}/>
    </details>
  </li>`;
}

export function StepPanel({ step, data, run, onSelect }) {
  const [name, setName] = useState(step.name);
  const [text, setText] = useState(step.message.text || '');
  const [buttons, setButtons] = useState(step.message.widget?.buttons || []);
  const [proxy, setProxy] = useState(step.is_proxy);
  const [delay, setDelay] = useState(step.emitter ? String(step.emitter.delay_seconds) : '');
  const [delayedStep, setDelayedStep] = useState(step.emitter?.next_step_id || '');
  const [error, setError] = useState(null);
  const groups = data.groups.filter((g) => g.step_id === step.id);
  const isFirst = data.bot.first_step_id === step.id;

  const save = async (event) => {
    event.preventDefault();
    setError(null);
    const emitter = delay.trim() || delayedStep ? { delay_seconds: Number(delay), next_step_id: delayedStep } : null;
    await run(() => api.patch(`api/v1/steps/${step.id}`, { name, is_proxy: proxy, message: messageOf(step, text, buttons), emitter }),
      { onError: setError, ok: `Step “${name || stepLabel(step)}” saved.` });
  };

  return html`<section class="side-panel step-panel" aria-labelledby="step-panel-title">
    <h2 id="step-panel-title">Step: ${stepLabel(step)}</h2>
    <p class="hint">${isFirst ? 'The first step of the bot.' : html`<button type="button" class="link"
      onClick=${() => run(() => api.patch(`api/v1/bots/${data.bot.id}`, { first_step_id: step.id }))}>Make it the first step</button>`}
      ${step.preset_id && html` Made by a preset.`}</p>
    <form onSubmit=${save}>
      <${FormError} error=${error} fields=${['name', 'message.text', 'is_proxy', 'emitter.delay_seconds', 'emitter.next_step_id']}/>
      <${Field} label="Step name" value=${name} maxlength="200" error=${fieldError(error, 'name')}
        onInput=${(e) => { setName(e.currentTarget.value); }}/>
      <${Field} as="textarea" label="Message text" value=${text} error=${fieldError(error, 'message.text')}
        hint="Variables as {$session.name$}, {$user.first_name$}."
        onInput=${(e) => { setText(e.currentTarget.value); }}/>
      <${ButtonsEditor} buttons=${buttons} error=${error} onChange=${setButtons}/>
      <label class="inline"><input type="checkbox" checked=${proxy} onChange=${(e) => { setProxy(e.currentTarget.checked); }}/>
        Proxy step (decided at once, without waiting for an answer)</label>
      <fieldset class="emitter">
        <legend>Delayed move</legend>
        <${Field} label="After (seconds)" type="number" min="1" step="any" value=${delay}
          error=${fieldError(error, 'emitter.delay_seconds')} onInput=${(e) => setDelay(e.currentTarget.value)}/>
        <${Field} as="select" label="Go to step" value=${delayedStep} error=${fieldError(error, 'emitter.next_step_id')}
          onChange=${(e) => setDelayedStep(e.currentTarget.value)}>
          <option value="">(no delayed move)</option>
          ${data.steps.map((s) => html`<option value=${s.id}>${stepLabel(s)}</option>`)}
        </${Field}>
        <small class="hint">If the user has not moved on by then, the session goes there by itself.</small>
      </fieldset>
      <div class="panel-actions">
        <button type="submit" class="primary">Save step</button>
      </div>
    </form>
    ${step.template_instance && html`<${TemplateInstanceEditor} step=${step} run=${run}/>`}
    <h3>Connection groups</h3>
    <p class="hint">Tried in order; in a group, connections by descending priority.</p>
    ${groups.length === 0 && html`<p class="hint">No groups yet: “Connect to…” makes one.</p>`}
    <ol class="group-list">${groups.map((g, i) => html`<${GroupItem} key=${g.id} group=${g} index=${i} data=${data} run=${run} onSelect=${onSelect}/>`)}</ol>
    <button type="button" onClick=${() => run(() => api.post('api/v1/connection_groups', { step_id: step.id, search_type: 'message', order: groups.length }))}>Add group</button>
  </section>`;
}

/** The bot's own groups (`/start`, `/help`...): tried before the current step's, from any step. */
export function BotLevelPanel({ data, run, onSelect }) {
  const groups = data.groups.filter((g) => !g.step_id);
  return html`<section class="side-panel bot-level-panel" aria-labelledby="bot-level-title">
    <h2 id="bot-level-title">Any step (bot level)</h2>
    <p class="hint">These groups are tried before the current step's, from any step: commands such as /start or /help.
      “Connect to…” with this selected adds a connection to the first of them.</p>
    ${groups.length === 0 && html`<p class="hint">No bot-level groups yet.</p>`}
    <ol class="group-list">${groups.map((g, i) => html`<${GroupItem} key=${g.id} group=${g} index=${i} data=${data} run=${run} onSelect=${onSelect}/>`)}</ol>
    <button type="button" onClick=${() => run(() => api.post('api/v1/connection_groups', { bot_id: data.bot.id, search_type: 'message', order: groups.length }))}>Add bot-level group</button>
  </section>`;
}

