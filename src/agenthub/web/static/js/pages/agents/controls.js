// The editor's inputs: lib/forms.js's labelled Field bound to a value, and a labelled checkbox.
import { html, useEffect, useId, useRef, useState } from '../../lib/ui.js';
import { Field } from '../../lib/forms.js';

export function TextInput({ value, onValue, ...props }) {
  return html`<${Field} value=${value ?? ''} onInput=${(event) => onValue(event.currentTarget.value)} ...${props}/>`;
}

export function TextArea({ value, onValue, ...props }) {
  return html`<${Field} as="textarea" value=${value ?? ''}
    onInput=${(event) => onValue(event.currentTarget.value)} ...${props}/>`;
}

/**
 * A number (an empty input is `empty`; text that is not a number is sent as it is, for the
 * server to name). The text typed is kept as typed ("0." on the way to "0.5"); a value
 * changed from elsewhere (a JSON save) replaces it. A problem with it is said with the
 * field's own limits first ("Temperature: 0 to 2. Input should be …") when it has them.
 */
export function NumberInput({ value, onValue, empty = null, error, ...props }) {
  const [text, setText] = useState(value ?? '');
  const sent = useRef(value);
  useEffect(() => {
    if (value !== sent.current) {
      sent.current = value;
      setText(value ?? '');
    }
  }, [value]);
  const changed = (event) => {
    const typed = event.currentTarget.value;
    const trimmed = typed.trim();
    const next = trimmed === '' ? empty : Number.isNaN(Number(trimmed)) ? trimmed : Number(trimmed);
    setText(typed);
    sent.current = next;
    onValue(next);
  };
  const limits = props.min !== undefined && props.max !== undefined ? `${props.label}: ${props.min} to ${props.max}. ` : '';
  const said = error && limits ? `${limits}${error}` : error;
  return html`<${Field} type="number" inputmode="decimal" value=${text} onInput=${changed} error=${said} ...${props}/>`;
}

/** `options`: [value, label] pairs, or [value, label, title] (a longer word on hover). */
export function Select({ value, onValue, options, ...props }) {
  return html`<${Field} as="select" value=${value ?? ''} onChange=${(event) => onValue(event.currentTarget.value)} ...${props}>
    ${options.map(([option, label, title]) => html`<option value=${option} title=${title || undefined}>${label}</option>`)}
  </${Field}>`;
}

export function Checkbox({ label, checked, onValue, hint, ...props }) {
  const id = useId();
  return html`<div class="check">
    <input type="checkbox" id=${id} checked=${Boolean(checked)} aria-describedby=${hint ? `${id}-hint` : undefined}
      onChange=${(event) => onValue(event.currentTarget.checked)} ...${props}/>
    <label for=${id}>${label}</label>
    ${hint && html`<small id=${`${id}-hint`} class="hint">${hint}</small>`}
  </div>`;
}

/** A card section of the editor with its heading. */
export function Section({ id, title, children, hint }) {
  return html`<section class="card agent-section" id=${`agent-${id}`} aria-labelledby=${`agent-${id}-title`}>
    <h2 id=${`agent-${id}-title`}>${title}</h2>
    ${hint && html`<p class="hint">${hint}</p>`}
    ${children}
  </section>`;
}

/** A list's item with Remove; `label` names it for screen readers. */
export function Item({ label, onRemove, children }) {
  return html`<fieldset class="agent-item">
    <legend>${label}</legend>
    ${children}
    <button type="button" class="danger" onClick=${onRemove} aria-label=${`Remove ${label}`}>Remove</button>
  </fieldset>`;
}

/** A copy of `list` with item `index` changed by `change` (an object merged in). */
export function changedAt(list, index, change) {
  return list.map((item, at) => (at === index ? { ...item, ...change } : item));
}

export function removedAt(list, index) {
  return list.filter((_, at) => at !== index);
}
