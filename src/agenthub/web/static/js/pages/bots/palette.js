// The palette: presets (a whole piece of a bot in one call, configured as JSON from the
// preset's schema) and the organisation's templates (added to the bot as an instance step;
// a new one made here).
import { html, useEffect, useState } from '../../lib/ui.js';
import { api } from '../../lib/api.js';
import { Field, FormError } from '../../lib/forms.js';
import { TemplateForm } from './template-form.js';

/** A starting config: the required fields with an empty value of their type; step ids set to the selected step. */
function skeleton(schema, stepId) {
  const config = {};
  for (const name of schema.required || []) {
    const property = schema.properties?.[name] || {};
    const type = property.type || property.anyOf?.find((t) => t.type !== 'null')?.type;
    if (name.endsWith('step_id')) config[name] = stepId || '';
    else if (type === 'array') config[name] = [];
    else if (type === 'object') config[name] = {};
    else if (type === 'integer' || type === 'number') config[name] = 0;
    else if (type === 'boolean') config[name] = false;
    else config[name] = '';
  }
  if (stepId && schema.properties?.from_step_id) config.from_step_id = stepId;
  return config;
}

function PresetForm({ preset, botId, stepId, run, onDone }) {
  const [text, setText] = useState(JSON.stringify(skeleton(preset.config_schema, stepId), null, 2));
  const [error, setError] = useState(null);
  const apply = async (event) => {
    event.preventDefault();
    setError(null);
    let config;
    try { config = JSON.parse(text); } catch { setError({ message: 'The config is not valid JSON.' }); return; }
    const made = await run(() => api.post(`api/v1/bots/${botId}/presets`, { preset: preset.preset, config }), setError);
    if (made) onDone(made);
  };
  const fields = Object.keys(preset.config_schema.properties || {});
  return html`<form class="preset-form" onSubmit=${apply}>
    <p class="hint">${preset.description}</p>
    <p class="hint">Fields: ${fields.map((f, i) => html`${i ? ', ' : ''}<code>${f}</code>`)}. Step ids are shown in the step panel's list below.</p>
    <${FormError} error=${error}/>
    ${error?.details?.map((d) => html`<p class="field-error">${d.field}: ${d.problem}</p>`)}
    <${Field} as="textarea" label=${`Config of “${preset.preset}”`} value=${text} rows="8" class="mono"
      onInput=${(e) => setText(e.currentTarget.value)}/>
    <div class="panel-actions">
      <button type="submit" class="primary">Apply preset</button>
      <button type="button" onClick=${() => onDone(null)}>Cancel</button>
    </div>
  </form>`;
}

/** A template added to the bot as a step: its inputs (values, substituted: `{$user.first_name$}`)
 * and where its outputs go (variable names), first filled from the template's schemas. */
function InstanceForm({ template, botId, run, onDone }) {
  const [inputs, setInputs] = useState(JSON.stringify(skeleton(template.inputs || {}), null, 2));
  const [outputs, setOutputs] = useState('{}');
  const [error, setError] = useState(null);
  const add = async (event) => {
    event.preventDefault();
    setError(null);
    let body;
    try {
      body = { bot_id: botId, inputs: JSON.parse(inputs || '{}'), outputs: JSON.parse(outputs || '{}') };
    } catch { setError({ message: 'The inputs and outputs must be JSON objects.' }); return; }
    const step = await run(() => api.post(`api/v1/templates/${template.id}/instances`, body), setError);
    if (step) onDone(step);
  };
  const outputNames = Object.keys(template.outputs?.properties || {});
  return html`<form class="instance-form" onSubmit=${add} aria-label=${`Add template ${template.name}`}>
    <h3>Add “${template.name}” as a step</h3>
    <${FormError} error=${error}/>
    ${error?.details?.map((d) => html`<p class="field-error">${d.field}: ${d.problem}</p>`)}
    <${Field} as="textarea" class="mono" rows="4" label="Inputs (JSON: input → value)" value=${inputs}
      hint="Values may name variables: {\"who\": \"{$user.first_name$}\"}." onInput=${(e) => setInputs(e.currentTarget.value)}/>
    <${Field} as="textarea" class="mono" rows="3" label="Outputs (JSON: output → variable)" value=${outputs}
      hint=${outputNames.length ? `Outputs: ${outputNames.join(', ')}; e.g. {"${outputNames[0]}": "session.${outputNames[0]}"}.` : 'This template has no outputs.'}
      onInput=${(e) => setOutputs(e.currentTarget.value)}/>
    <div class="panel-actions">
      <button type="submit" class="primary">Add step</button>
      <button type="button" onClick=${() => onDone(null)}>Cancel</button>
    </div>
  </form>`;
}

export function Palette({ data, selectedStepId, run, onSelect }) {
  const [presets, setPresets] = useState(null);
  const [templates, setTemplates] = useState(null);
  const [problem, setProblem] = useState(null);
  const [open, setOpen] = useState(null);
  const [making, setMaking] = useState(false);
  const [made, setMade] = useState(null);
  useEffect(() => {
    Promise.all([api.get('api/v1/presets'), api.get('api/v1/templates')]).then(
      ([p, t]) => { setPresets(p.items); setTemplates(t.items); },
      (error) => setProblem(error.message),
    );
  }, [made]);
  const [adding, setAdding] = useState(null);
  return html`<section class="side-panel palette" aria-labelledby="palette-title">
    <h2 id="palette-title">Palette</h2>
    ${problem && html`<p class="form-error" role="alert">${problem}</p>`}
    ${!problem && presets === null && html`<p class="loading" role="status">Loading presets…</p>`}
    <h3>Presets</h3>
    ${presets && presets.length === 0 && html`<p class="hint">No presets.</p>`}
    ${open
      ? html`<${PresetForm} preset=${open} botId=${data.bot.id} stepId=${selectedStepId} run=${run}
          onDone=${(made) => { setOpen(null); if (made?.entry_step_id) onSelect({ kind: 'step', id: made.entry_step_id }); }}/>`
      : html`<ul class="preset-list">${(presets || []).map((p) => html`<li key=${p.preset}>
          <button type="button" onClick=${() => setOpen(p)} title=${p.description}>Preset: ${p.preset}</button></li>`)}</ul>`}
    <h3>Templates</h3>
    ${templates && templates.length === 0 && !making && html`<p class="hint">The organisation has no templates yet: make one here, or import a bot that has some.</p>`}
    ${made && html`<p class="ok" role="status">Template “${made.name}” saved.</p>`}
    <ul class="template-list">${(templates || []).map((t) => html`<li key=${t.id}>
      <strong>${t.name}</strong> ${t.description && html`<span class="hint">${t.description}</span>`}
      <button type="button" onClick=${() => setAdding(t)} aria-label=${`Add template ${t.name} as a step`}>Add as step</button></li>`)}</ul>
    ${adding && html`<${InstanceForm} key=${adding.id} template=${adding} botId=${data.bot.id} run=${run}
      onDone=${(step) => { setAdding(null); if (step) onSelect({ kind: 'step', id: step.id }); }}/>`}
    ${making
      ? html`<${TemplateForm} onDone=${(template) => { setMaking(false); if (template) setMade(template); }}/>`
      : html`<div class="panel-actions"><button type="button" onClick=${() => { setMade(null); setMaking(true); }}>New template</button></div>`}
  </section>`;
}
