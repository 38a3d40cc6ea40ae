// A connection group's settings: what it searches (the message, or the result of an action:
// an HTTP request of the bot, code, an LLM agent, an integration), the action's own fields,
// the variables it saves (name -> JSONPath) and its order.
import { html, useState } from '../../lib/ui.js';
import { api } from '../../lib/api.js';
import { Field, FormError, fieldError, parsedJson } from '../../lib/forms.js';
import { requestLabel } from './requests.js';

const SEARCH_TYPES = [
  ['message', 'the message'], ['response', 'an HTTP request'], ['code', 'code'], ['llm', 'an LLM'], ['integration', 'an integration'],
];

export function GroupSettings({ group, data, run }) {
  const [type, setType] = useState(group.search_type);
  const [requestId, setRequestId] = useState(group.request_id || '');
  const [code, setCode] = useState(group.code || 'async def main(message, variables):\n    return {}\n');
  const [agentId, setAgentId] = useState(group.llm?.agent_id || '');
  const [prompt, setPrompt] = useState(group.llm?.prompt || '');
  const [integration, setIntegration] = useState(group.integration?.name || '');
  const [config, setConfig] = useState(JSON.stringify(group.integration?.config || {}, null, 2));
  const [variables, setVariables] = useState(JSON.stringify(group.variables || {}, null, 2));
  const [order, setOrder] = useState(String(group.order));
  const [error, setError] = useState(null);

  const save = async (event) => {
    event.preventDefault();
    setError(null);
    let body;
    try {
      body = { search_type: type, order: Number(order), variables: parsedJson(variables, 'Variables', {}) };
      if (type === 'response') body.request_id = requestId || null;
      if (type === 'code') body.code = code;
      if (type === 'llm') body.llm = { agent_id: agentId, prompt };
      if (type === 'integration') body.integration = { name: integration, config: parsedJson(config, 'The config', {}) };
    } catch (problem) { setError({ message: problem.message }); return; }
    await run(() => api.patch(`api/v1/connection_groups/${group.id}`, body), { onError: setError, ok: 'Group saved.' });
  };
  const others = (error?.details || []).filter((d) => d.field && !['search_type', 'order'].includes(String(d.field)));

  return html`<form class="group-settings" onSubmit=${save}>
    <${FormError} error=${error} fields=${['search_type', 'order']}/>
    ${others.map((d) => html`<p class="field-error">${d.field}: ${d.problem}</p>`)}
    <${Field} as="select" label="Group searches" value=${type} error=${fieldError(error, 'search_type')}
      onChange=${(e) => setType(e.currentTarget.value)}>
      ${SEARCH_TYPES.map(([value, words]) => html`<option value=${value}>${words} (${value})</option>`)}
    </${Field}>
    ${type === 'response' && html`<${Field} as="select" label="HTTP request" value=${requestId} onChange=${(e) => setRequestId(e.currentTarget.value)}
      hint=${data.requests.length ? '' : 'The bot has no requests yet: add one in the “HTTP requests” panel.'}>
      <option value="">(choose a request)</option>
      ${data.requests.map((r) => html`<option value=${r.id}>${requestLabel(r)}: ${r.method} ${r.url}</option>`)}
    </${Field}>`}
    ${type === 'code' && html`<${Field} as="textarea" class="mono" label="Code (Python)" value=${code} rows="6"
      onInput=${(e) => setCode(e.currentTarget.value)}/>`}
    ${type === 'llm' && html`<${Field} label="LLM agent (handle)" value=${agentId} onInput=${(e) => setAgentId(e.currentTarget.value)}/>
      <${Field} as="textarea" label="Prompt" value=${prompt} onInput=${(e) => setPrompt(e.currentTarget.value)}/>`}
    ${type === 'integration' && html`<${Field} label="Integration" value=${integration} list="bot-integrations"
      hint="discord.execute_webhook, email.send, random.number, telegram.send_message" onInput=${(e) => setIntegration(e.currentTarget.value)}/>
      <datalist id="bot-integrations">${['discord.execute_webhook', 'email.send', 'random.number', 'telegram.send_message']
        .map((name) => html`<option value=${name}></option>`)}</datalist>
      <${Field} as="textarea" class="mono" label="Integration config (JSON)" value=${config} onInput=${(e) => setConfig(e.currentTarget.value)}/>`}
    <${Field} as="textarea" class="mono" label="Variables saved (JSON: name → JSONPath)" value=${variables} rows="3"
      hint=${type === 'message' ? 'Over the message: {"session.email": "$.text"}' : 'Over the result: {"session.temp": "$.json.main.temp"}'}
      onInput=${(e) => setVariables(e.currentTarget.value)}/>
    <${Field} label="Order" type="number" step="1" value=${order} error=${fieldError(error, 'order')}
      hint="Groups are tried by ascending order." onInput=${(e) => setOrder(e.currentTarget.value)}/>
    <button type="submit">Save group</button>
  </form>`;
}
