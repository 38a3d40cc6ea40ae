// The headers of an HTTP tool or MCP server: a name and either text (shown as *** once stored;
// *** kept as it is keeps the stored value) or an organisation credential.
import { html } from '../../lib/ui.js';
import { Select, TextInput } from './controls.js';

export function HeadersEditor({ headers, onValue, credentials, owner, problemAt }) {
  const entries = Object.entries(headers || {});
  const rebuild = (index, name, value) => onValue(Object.fromEntries(
    entries.map(([oldName, oldValue], at) => (at === index ? [name, value] : [oldName, oldValue])),
  ));
  const remove = (index) => onValue(Object.fromEntries(entries.filter((_, at) => at !== index)));
  const credentialOptions = [['', 'Choose a credential'], ...(credentials || []).map((item) => [item.id, `${item.name} (${item.type})`])];
  return html`<div class="agent-headers" role="group" aria-label=${`Headers of ${owner}`}>
    <h4>Headers</h4>
    ${entries.map(([name, value], index) => {
      const fromCredential = value && typeof value === 'object';
      return html`<div class="agent-header-row" key=${index}>
        <${TextInput} label="Header name" value=${name} onValue=${(text) => rebuild(index, text, value)}
          hint="Letters, digits and - (X-Api-Key)."/>
        <${Select} label="Value from" value=${fromCredential ? 'credential' : 'text'}
          options=${[['text', 'Text'], ['credential', 'A credential']]}
          onValue=${(kind) => rebuild(index, name, kind === 'credential' ? { credential_id: '' } : '')}/>
        ${fromCredential
          ? html`<${Select} label="Credential" value=${value.credential_id} options=${credentialOptions}
              onValue=${(id) => rebuild(index, name, { credential_id: id })} error=${problemAt(`headers.${name}.credential_id`)}/>`
          : html`<${TextInput} label="Value" value=${value} onValue=${(text) => rebuild(index, name, text)}
              error=${problemAt(`headers.${name}`)} hint=${value === '***' ? 'Stored: *** keeps it.' : undefined}/>`}
        <button type="button" class="danger" onClick=${() => remove(index)} aria-label=${`Remove header ${name || index + 1}`}>Remove</button>
      </div>`;
    })}
    <button type="button" disabled=${'' in (headers || {})} onClick=${() => onValue({ ...(headers || {}), '': '' })}>Add header</button>
  </div>`;
}
