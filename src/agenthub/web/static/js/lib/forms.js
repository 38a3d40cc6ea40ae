// What forms share: an error answer shown where it belongs (a field's problem under the field,
// the rest above the form), and labelled inputs.
import { html, useId } from './ui.js';

/** The value of a JSON text field; `empty` when it is blank; an Error naming `label` when
 * it is not JSON (shown above the form, as the API's own refusals are). */
export function parsedJson(text, label, empty) {
  if (!text.trim()) return empty;
  try { return JSON.parse(text); } catch { throw new Error(`${label} is not valid JSON.`); }
}

/** The problem of `field` in an ApiError (or undefined). */
export function fieldError(error, field) {
  return error && error.fields ? error.fields[field] : undefined;
}

/** The message of an error that no field took (shown above or under the form). */
export function FormError({ error, fields = [] }) {
  if (!error) return null;
  const named = fields.some((field) => fieldError(error, field));
  const message = named ? 'Some fields need a change (see below).' : error.message;
  return html`<p class="form-error" role="alert">${message}</p>`;
}

/** A labelled input (or textarea / select with `as`) with its error under it. */
export function Field({ label, error, hint, as = 'input', children, ...props }) {
  const id = useId();
  const describedBy = [error && `${id}-error`, hint && `${id}-hint`].filter(Boolean).join(' ') || undefined;
  const control = as === 'textarea'
    ? html`<textarea id=${id} aria-invalid=${error ? 'true' : undefined} aria-describedby=${describedBy} ...${props}></textarea>`
    : as === 'select'
      ? html`<select id=${id} aria-invalid=${error ? 'true' : undefined} aria-describedby=${describedBy} ...${props}>${children}</select>`
      : html`<input id=${id} aria-invalid=${error ? 'true' : undefined} aria-describedby=${describedBy} ...${props}/>`;
  return html`<div class="field">
    <label for=${id}>${label}</label>
    ${control}
    ${hint && html`<small id=${`${id}-hint`} class="hint">${hint}</small>`}
    ${error && html`<small id=${`${id}-error`} class="field-error">${error}</small>`}
  </div>`;
}
