// Tools: the built-in ones (toggles), HTTP API tools and MCP servers, and how many tool steps a
// turn may take.
import { html, useState } from '../../lib/ui.js';
import { Field } from '../../lib/forms.js';
import { Checkbox, Item, NumberInput, Section, Select, TextArea, TextInput, changedAt, removedAt } from './controls.js';
import { HeadersEditor } from './headers-editor.js';
import { ProblemList, sectionProblems } from './problems.js';

export const BUILTIN_TOOLS = [
  ['search_knowledge', 'Search its knowledge bases'],
  ['role_call', 'Ask a role (lawyer, accountant, hr...)'],
  ['calendar', 'The calendar: events and reminders'],
  ['web_search', 'Search the web'],
  ['core_memory_append', 'Memory: add to a core block'],
  ['core_memory_replace', 'Memory: change a core block'],
  ['archival_memory_insert', 'Memory: keep a passage'],
  ['archival_memory_search', 'Memory: find passages'],
  ['conversation_search', 'Memory: search past conversations'],
];
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].map((method) => [method, method]);
const LEAF = /^settings\.(max_tool_steps|(http_tools|mcp_servers)\.\d+\.(name|description|method|url|timeout|parameters|headers\..+))$/;
const NAME_HINT = 'Letters, digits, _ and -, starting with a letter (up to 64).';
const URL_HINT = 'http(s)://host[:port]/path; {param} placeholders take arguments.';
const NEW_TOOL = { name: '', description: '', method: 'GET', url: '', headers: {}, parameters: { type: 'object', properties: {} }, timeout: 30 };

function ParametersField({ value, onValue, error }) {
  const [text, setText] = useState(() => JSON.stringify(value ?? {}, null, 2));
  const [invalid, setInvalid] = useState(null);
  const changed = (event) => {
    const next = event.currentTarget.value;
    setText(next);
    try {
      onValue(JSON.parse(next));
      setInvalid(null);
    } catch (problem) {
      setInvalid(`not valid JSON: ${problem.message}`);
    }
  };
  return html`<${Field} as="textarea" class="mono" label="Parameters (JSON Schema)" rows="5" value=${text} onInput=${changed}
    error=${invalid || error} hint='The arguments the model sees: {"type": "object", "properties": {...}}.'/>`;
}

function HttpTools({ tools, set, problems, credentials }) {
  const at = (index, key) => problems[`settings.http_tools.${index}.${key}`];
  const change = (index, change) => set('http_tools', changedAt(tools, index, change));
  return html`<div class="agent-subpanel">
    <h3>HTTP tools</h3>
    ${!tools.length && html`<p class="hint">None: an HTTP tool calls an API ({param} placeholders in its URL).</p>`}
    ${tools.map((tool, index) => html`<${Item} key=${index} label=${`HTTP tool ${tool.name || index + 1}`}
        onRemove=${() => set('http_tools', removedAt(tools, index))}>
      <div class="agent-grid">
        <${TextInput} label="Tool name" value=${tool.name} onValue=${(value) => change(index, { name: value })} error=${at(index, 'name')}
          hint=${NAME_HINT}/>
        <${Select} label="Method" value=${tool.method} options=${METHODS} onValue=${(value) => change(index, { method: value })}
          error=${at(index, 'method')}/>
      </div>
      <${TextInput} label="URL" value=${tool.url} onValue=${(value) => change(index, { url: value })} error=${at(index, 'url')}
        placeholder="https://api.example.com/v1/items/{id}" hint=${URL_HINT}/>
      <${TextInput} label="Description" value=${tool.description} onValue=${(value) => change(index, { description: value })}
        error=${at(index, 'description')} hint="What the model reads to decide to call it."/>
      <${NumberInput} label="Timeout (seconds)" value=${tool.timeout} onValue=${(value) => change(index, { timeout: value })}
        error=${at(index, 'timeout')}/>
      <${ParametersField} value=${tool.parameters} onValue=${(value) => change(index, { parameters: value })} error=${at(index, 'parameters')}/>
      <${HeadersEditor} headers=${tool.headers} owner=${tool.name || `HTTP tool ${index + 1}`} credentials=${credentials}
        onValue=${(value) => change(index, { headers: value })} problemAt=${(path) => at(index, path)}/>
    </${Item}>`)}
    <button type="button" onClick=${() => set('http_tools', [...tools, { ...NEW_TOOL }])}>Add HTTP tool</button>
  </div>`;
}

function McpServers({ servers, set, problems, credentials }) {
  const at = (index, key) => problems[`settings.mcp_servers.${index}.${key}`];
  const change = (index, change) => set('mcp_servers', changedAt(servers, index, change));
  return html`<div class="agent-subpanel">
    <h3>MCP servers</h3>
    ${servers.map((server, index) => html`<${Item} key=${index} label=${`MCP server ${server.name || index + 1}`}
        onRemove=${() => set('mcp_servers', removedAt(servers, index))}>
      <${TextInput} label="Server name" value=${server.name} onValue=${(value) => change(index, { name: value })} error=${at(index, 'name')}
        hint=${NAME_HINT}/>
      <${TextInput} label="Server URL" value=${server.url} onValue=${(value) => change(index, { url: value })} error=${at(index, 'url')}
        hint="http(s)://host[:port]/path of its streamable HTTP endpoint."/>
      <${HeadersEditor} headers=${server.headers} owner=${server.name || `MCP server ${index + 1}`} credentials=${credentials}
        onValue=${(value) => change(index, { headers: value })} problemAt=${(path) => at(index, path)}/>
    </${Item}>`)}
    <button type="button" onClick=${() => set('mcp_servers', [...servers, { name: '', url: '', headers: {} }])}>Add MCP server</button>
  </div>`;
}

export function ToolsSection({ settings, set, problems, credentials }) {
  const tools = settings.tools || [];
  const toggle = (name, on) => set('tools', on ? [...tools, name] : tools.filter((tool) => tool !== name));
  return html`<${Section} id="tools" title="Tools">
    <${ProblemList} problems=${sectionProblems(problems, 'tools', (path) => LEAF.test(path))}/>
    <fieldset class="agent-checks">
      <legend>Built-in tools</legend>
      ${BUILTIN_TOOLS.map(([name, label]) => html`<${Checkbox} key=${name} label=${html`${label} <code>${name}</code>`}
        checked=${tools.includes(name)} onValue=${(on) => toggle(name, on)}/>`)}
    </fieldset>
    <${NumberInput} label="Tool steps per turn" min="1" max="100" value=${settings.max_tool_steps}
      onValue=${(value) => set('max_tool_steps', value)} error=${problems['settings.max_tool_steps']}/>
    <${HttpTools} tools=${settings.http_tools || []} set=${set} problems=${problems} credentials=${credentials}/>
    <${McpServers} servers=${settings.mcp_servers || []} set=${set} problems=${problems} credentials=${credentials}/>
  </${Section}>`;
}
