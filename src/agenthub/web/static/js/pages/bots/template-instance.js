// A template instance step's bindings: the template's inputs (values, substituted) and where
// its outputs are saved in the bot (variable names), as JSON objects.
import { html, useState } from '../../lib/ui.js';
import { api } from '../../lib/api.js';
import { Field, FormError } from '../../lib/forms.js';

function parsedObject(text, label) {
  try {
    const value = JSON.parse(text || '{}');
    if (value && typeof value === 'object' && !Array.isArray(value)) return value;
  } catch { /* said below */ }
  throw new Error(`${label} must be a JSON object.`);
}

export function TemplateInstanceEditor({ step, run }) {
  const instance = step.template_instance;
  const [inputs, setInputs] = useState(JSON.stringify(instance.inputs || {}, null, 2));
  const [outputs, setOutputs] = useState(JSON.stringify(instance.outputs || {}, null, 2));
  const [error, setError] = useState(null);
  const save = async (event) => {
    event.preventDefault();
    setError(null);
    let body;
    try {
      body = { template_instance: { template_id: instance.template_id, inputs: parsedObject(inputs, 'Inputs'), outputs: parsedObject(outputs, 'Outputs') } };
    } catch (problem) { setError({ message: problem.message }); return; }
    await run(() => api.patch(`api/v1/steps/${step.id}`, body), { onError: setError, ok: 'Template bindings saved.' });
  };
  return html`<form class="template-instance" onSubmit=${save} aria-labelledby="instance-title">
    <h3 id="instance-title">Template</h3>
    <p class="hint">This step runs the template <code>${instance.template_id}</code>, then its own groups.</p>
    <${FormError} error=${error}/>
    ${(error?.details || []).filter((d) => d.field).map((d) => html`<p class="field-error">${d.field}: ${d.problem}</p>`)}
    <${Field} as="textarea" class="mono" label="Inputs (JSON: input → value)" value=${inputs} rows="3"
      hint='Values may use variables: {"who": "{$user.first_name$}"}' onInput=${(e) => setInputs(e.currentTarget.value)}/>
    <${Field} as="textarea" class="mono" label="Outputs (JSON: output → variable)" value=${outputs} rows="3"
      hint='{"mood": "session.mood"}' onInput=${(e) => setOutputs(e.currentTarget.value)}/>
    <button type="submit">Save template bindings</button>
  </form>`;
}
