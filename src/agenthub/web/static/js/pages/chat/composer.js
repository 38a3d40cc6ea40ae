// The message box: a textarea (Enter sends, Shift+Enter is a new line), files to attach,
// Send, and Stop while an answer is being written.
import { html, useRef, useState } from '../../lib/ui.js';
import { upload } from './files.js';

export function Composer({ onSend, onStop, onRetry, waiting, canSend, canRetry }) {
  const [text, setText] = useState('');
  const [files, setFiles] = useState([]);
  const [uploading, setUploading] = useState(false);
  const [problem, setProblem] = useState(null);
  const picker = useRef(null);

  const send = () => {
    const content = text.trim();
    if (!content) { setProblem(files.length ? 'Write a few words to send with the files.' : null); return; }
    if (!canSend || uploading) return;
    if (onSend({ content, attachments: files })) { setText(''); setFiles([]); setProblem(null); }
  };

  const attach = async (event) => {
    const chosen = [...event.currentTarget.files];
    event.currentTarget.value = '';
    if (!chosen.length) return;
    setUploading(true);
    setProblem(null);
    try {
      const stored = [];
      for (const file of chosen) stored.push(await upload(file));
      setFiles((current) => [...current, ...stored].slice(0, 10));
    } catch (error) {
      setProblem(`The file could not be attached: ${error.message}`);
    } finally {
      setUploading(false);
    }
  };

  const onKeyDown = (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) { event.preventDefault(); send(); }
  };

  return html`<form class="composer" onSubmit=${(event) => { event.preventDefault(); send(); }}>
    ${files.length > 0 && html`<ul class="pending-files" aria-label="Files to send">
      ${files.map((file) => html`<li key=${file.id}>${file.name}
        <button type="button" class="link" aria-label=${`Remove ${file.name}`}
          onClick=${() => setFiles(files.filter((f) => f.id !== file.id))}>✕</button></li>`)}
    </ul>`}
    ${problem && html`<p class="field-error" role="alert">${problem}</p>`}
    <div class="composer-row">
      <label class="sr-only" for="chat-message">Message</label>
      <textarea id="chat-message" rows="2" placeholder="Write a message…" value=${text} maxlength="32000"
        onInput=${(event) => setText(event.currentTarget.value)} onKeyDown=${onKeyDown}></textarea>
      <div class="composer-actions">
        <input ref=${picker} type="file" multiple hidden id="chat-files" aria-label="Files to attach"
          onChange=${attach}/>
        <button type="button" title="Attach files" disabled=${uploading}
          onClick=${() => picker.current.click()}>${uploading ? 'Uploading…' : 'Attach'}</button>
        ${waiting
          ? html`<button type="button" class="danger" onClick=${onStop}>Stop</button>`
          : canRetry && html`<button type="button" title="Send your last message again" onClick=${onRetry}>Retry</button>`}
        <button type="submit" class="primary" disabled=${!canSend || uploading}>Send</button>
      </div>
    </div>
  </form>`;
}
