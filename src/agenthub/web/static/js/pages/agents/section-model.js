// The model: provider (with its health), model id (the endpoint's list as suggestions), base
// URL, temperature and the credential holding its key.
import { html, useEffect, useId, useState } from '../../lib/ui.js';
import { api } from '../../lib/api.js';
import { Field } from '../../lib/forms.js';
import { NumberInput, Section, Select, TextInput } from './controls.js';
import { ProblemList, sectionProblems } from './problems.js';

const LEAVES = new Set(['settings.provider', 'settings.model_id', 'settings.temperature', 'settings.base_url',
  'settings.api_key_credential_id']);
const MODELS_DELAY_MS = 400;

/** A provider's health in a word or two, for its option: [label, detail or null]. */
function health(provider) {
  if (provider.reachable === false) {
    const detail = provider.status || null;
    return [detail && detail.startsWith('timed out') ? 'timed out' : 'unreachable', detail];
  }
  if (provider.key_present === false) return [`${provider.key_variable} not set`, null];
  if (provider.reachable) return [provider.status && provider.status !== 'ok' ? provider.status : 'ok', null];
  return ['', null];
}

/** What the hint under Provider says of the chosen one (what its check found). */
function providerHint(provider) {
  if (!provider) return undefined;
  const [, detail] = health(provider);
  if (provider.reachable === false) {
    return `${provider.name} did not answer its check${detail ? `: ${detail}` : ''}. Agents using it fail until it does.`;
  }
  if (provider.key_present === false) return `Its platform key ${provider.key_variable} is not set: give an API key credential.`;
  return undefined;
}

/** The models `provider` offers at `baseUrl`: {models, error, loading}. */
function useModels(provider, baseUrl) {
  const [state, setState] = useState({ models: [], error: null, loading: false, provider: null });
  useEffect(() => {
    if (!provider) { setState({ models: [], error: null, loading: false, provider: null }); return undefined; }
    const controller = new AbortController();
    setState((old) => ({ ...old, loading: true }));
    const timer = setTimeout(() => {
      api.get(`api/v1/providers/${encodeURIComponent(provider)}/models`, {
        query: baseUrl ? { base_url: baseUrl } : undefined, signal: controller.signal,
      }).then(
        (answer) => setState({ models: answer.models, error: null, loading: false, provider }),
        (error) => error.name !== 'AbortError' && setState({ models: [], error: error.message, loading: false, provider }),
      );
    }, MODELS_DELAY_MS);
    return () => { clearTimeout(timer); controller.abort(); };
  }, [provider, baseUrl]);
  return state;
}

function ModelField({ value, onValue, error, models }) {
  const listId = useId();
  const hint = models.loading ? 'Loading the endpoint’s models…'
    : models.error ? `The model list could not be read: ${models.error}. Type the model id.`
      : models.models.length ? `${models.models.length} ${models.models.length === 1 ? 'model' : 'models'} offered: type to filter.` : 'Type the model id.';
  return html`<div>
    <${Field} label="Model" list=${listId} value=${value ?? ''} required autocomplete="off"
      onInput=${(event) => onValue(event.currentTarget.value)} error=${error} hint=${hint}/>
    <datalist id=${listId}>${models.models.map((model) => html`<option value=${model.id}></option>`)}</datalist>
  </div>`;
}

export function ModelSection({ settings, set, problems, providers, credentials }) {
  const [baseUrl, setBaseUrl] = useState(settings.base_url || '');
  useEffect(() => {
    const timer = setTimeout(() => setBaseUrl(settings.base_url || ''), MODELS_DELAY_MS);
    return () => clearTimeout(timer);
  }, [settings.base_url]);
  const models = useModels(settings.provider, baseUrl);
  // A provider just chosen: once its models are read, a model id that is empty or not one of
  // them becomes its first (a model id left from another provider would only fail).
  const [filling, setFilling] = useState(null);
  useEffect(() => {
    if (!filling || models.loading || models.provider !== filling) return;
    setFilling(null);
    const offered = models.models.map((model) => model.id);
    if (offered.length && !offered.includes(settings.model_id)) set('model_id', offered[0]);
  }, [filling, models]);
  const chooseProvider = (value) => {
    set('provider', value);
    setFilling(value || null);
  };
  const providerOptions = [['', 'Choose a provider'], ...(providers || []).map((provider) => {
    const [said, detail] = health(provider);
    return [provider.name, said ? `${provider.name} (${said})` : provider.name, detail];
  })];
  if (settings.provider && !providerOptions.some(([name]) => name === settings.provider)) {
    providerOptions.push([settings.provider, settings.provider]);
  }
  const credentialOptions = [['', 'None'], ...(credentials || []).map((item) => [item.id, `${item.name} (${item.type})`])];
  return html`<${Section} id="model" title="Model">
    <${ProblemList} problems=${sectionProblems(problems, 'model', (path) => LEAVES.has(path))}/>
    <div class="agent-grid">
      <${Select} label="Provider" value=${settings.provider} options=${providerOptions} required
        onValue=${chooseProvider} error=${problems['settings.provider']}
        hint=${providerHint((providers || []).find((provider) => provider.name === settings.provider))}/>
      <${ModelField} value=${settings.model_id} onValue=${(value) => { setFilling(null); set('model_id', value); }}
        error=${problems['settings.model_id']} models=${models}/>
      <${TextInput} label="Base URL" type="url" value=${settings.base_url} placeholder="the provider's own"
        onValue=${(value) => set('base_url', value.trim() ? value.trim() : null)} error=${problems['settings.base_url']}
        hint="Needed for openai_compatible (a local Ollama or vLLM: http://127.0.0.1:11434/v1)."/>
      <${NumberInput} label="Temperature" min="0" max="2" step="0.1" value=${settings.temperature}
        onValue=${(value) => set('temperature', value)} error=${problems['settings.temperature']} hint="0 to 2."/>
      <${Select} label="API key credential" value=${settings.api_key_credential_id || ''} options=${credentialOptions}
        onValue=${(value) => set('api_key_credential_id', value || null)} error=${problems['settings.api_key_credential_id']}
        hint="A credential of the organisation whose value is the key of its model calls."/>
    </div>
  </${Section}>`;
}
