// What the settings tabs share: reading a list from the API (loading, empty, error), sending a
// form (its error shown by field), a delete that asks once more, dates and copying.
import { html, useEffect, useRef, useState } from '../../lib/ui.js';

export { useRead } from '../../lib/read.js';

/** A list's states: loading, failed (with Try again), empty, or its rows through `children`. */
export function ListState({ read, items, empty, children }) {
  if (read.error) {
    return html`<div class="form-error" role="alert">${read.error.message}
      <button type="button" class="link" onClick=${read.reload}>Try again</button></div>`;
  }
  if (!read.data) return html`<p class="loading" role="status">Loading…</p>`;
  if (!items.length) return html`<p class="hint empty">${empty}</p>`;
  return children;
}

/**
 * {error, busy, submit}: submit(event) sends the form's FormData through `send`, then resets
 * the form and calls `done(result)`; an ApiError stays in `error` for Field and FormError.
 */
export function useSubmit(send, done) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    setBusy(true);
    setError(null);
    try {
      const result = await send(new FormData(form));
      form.reset();
      done?.(result);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  return { error, busy, submit };
}

/** A button that asks "Sure?" in place (no dialog) before `act()`; shows the error it gets. */
export function ConfirmButton({ label, confirm, act, what }) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const sure = useRef(null);
  useEffect(() => { if (asking) sure.current?.focus(); }, [asking]);
  const go = async () => {
    setBusy(true);
    setError(null);
    try {
      await act();
    } catch (failure) {
      setError(failure);
      setAsking(false);
    } finally {
      setBusy(false);
    }
  };
  return html`<span class="confirm">
    ${asking
      ? html`<button type="button" class="danger" ref=${sure} disabled=${busy} onClick=${go} aria-label=${`${confirm} ${what}`}>${confirm}</button>
        <button type="button" onClick=${() => setAsking(false)} aria-label=${`Keep ${what}`}>Cancel</button>`
      : html`<button type="button" class="danger" onClick=${() => setAsking(true)} aria-label=${`${label} ${what}`}>${label}</button>`}
    ${error && html`<span class="field-error" role="alert">${error.message}</span>`}
  </span>`;
}

export function when(value) {
  if (!value) return '';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' });
}

/** Copy `text` to the clipboard (the selection command where the clipboard API is missing). */
export async function copyText(text, input) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    if (!input) return false;
    input.select();
    return document.execCommand('copy');
  }
}

export function CopyField({ label, value }) {
  const [copied, setCopied] = useState(null);
  let input = null;
  return html`<div class="copy-field">
    <label>${label}<input readonly value=${value} ref=${(el) => { input = el; }} onFocus=${(e) => e.currentTarget.select()}/></label>
    <button type="button" onClick=${async () => setCopied(await copyText(value, input))}>Copy</button>
    <span role="status" class="hint">${copied === true ? 'Copied.' : copied === false ? 'Copy it by hand: the browser refused.' : ''}</span>
  </div>`;
}

export function NotAllowed({ children }) {
  return html`<p class="note">${children}</p>`;
}
