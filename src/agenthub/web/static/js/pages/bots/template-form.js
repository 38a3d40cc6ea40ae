// A new template of the organisation, made in the palette: its name, the JSON Schemas of its
// inputs and outputs, and its steps as in a bot document (keys unique in the template, steps
// naming each other by key; inside it the inputs are session variables).
import { html, useState } from '../../lib/ui.js';
import { api } from '../../lib/api.js';
import { Field, FormError, fieldError, parsedJson } from '../../lib/forms.js';

const STARTING_STEPS = {
  first_step: 'greet',
  steps: [{ key: 'greet', message: { text: 'Hello, {$session.who$}!' }, connection_groups: [] }],
  requests: [],
};
const STARTING_INPUTS = { type: 'object', properties: { who: { type: 'string' } }, required: ['who'] };
const NAMED_FIELDS = ['name', 'key', 'description'];

export function TemplateForm({ onDone }) {
  const [name, setName] = useState('');
  const [key, setKey] = useState('');
  const [description, setDescription] = useState('');
  const [inputs, setInputs] = useState(JSON.stringify(STARTING_INPUTS, null, 2));
  const [outputs, setOutputs] = useState('{}');
  const [steps, setSteps] = useState(JSON.stringify(STARTING_STEPS, null, 2));
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  const save = async (event) => {
    event.preventDefault();
    setError(null);
    let body;
    try {
      body = {
        name, key: key.trim() || null, description,
        inputs: parsedJson(inputs, 'The inputs', {}), outputs: parsedJson(outputs, 'The outputs', {}),
        document: parsedJson(steps, 'The steps', null),
      };
    } catch (problem) { setError({ message: problem.message }); return; }
    setBusy(true);
    try {
      onDone(await api.post('api/v1/templates', body));
    } catch (failure) {
      setError(failure);
    } finally { setBusy(false); }
  };
  const others = (error?.details || []).filter((d) => d.field && !NAMED_FIELDS.includes(String(d.field)));

  return html`<form class="template-form" onSubmit=${save} aria-label="New template">
    <h3>New template</h3>
    <${FormError} error=${error} fields=${NAMED_FIELDS}/>
    ${others.map((d) => html`<p class="field-error">${d.field}: ${d.problem}</p>`)}
    <${Field} label="Template name" value=${name} required error=${fieldError(error, 'name')}
      onInput=${(e) => setName(e.currentTarget.value)}/>
    <${Field} label="Template key (optional)" value=${key} error=${fieldError(error, 'key')}
      hint="Its name in bot documents." onInput=${(e) => setKey(e.currentTarget.value)}/>
    <${Field} label="Description" value=${description} error=${fieldError(error, 'description')}
      onInput=${(e) => setDescription(e.currentTarget.value)}/>
    <${Field} as="textarea" class="mono" rows="5" label="Inputs (JSON Schema)" value=${inputs}
      hint="An instance maps each input, e.g. {\"who\": \"{$user.first_name$}\"}." onInput=${(e) => setInputs(e.currentTarget.value)}/>
    <${Field} as="textarea" class="mono" rows="3" label="Outputs (JSON Schema)" value=${outputs}
      onInput=${(e) => setOutputs(e.currentTarget.value)}/>
    <${Field} as="textarea" class="mono" rows="10" label="Steps (JSON: first_step, steps, requests)" value=${steps}
      hint="As in a bot document; the inputs are session variables inside, and the template ends where a step has no connection to take."
      onInput=${(e) => setSteps(e.currentTarget.value)}/>
    <div class="panel-actions">
      <button type="submit" class="primary" disabled=${busy}>Save template</button>
      <button type="button" onClick=${() => onDone(null)}>Cancel</button>
    </div>
  </form>`;
}
