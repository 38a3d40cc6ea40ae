// Files in a chat: uploading what the user attaches (POST /api/v1/files), and showing the
// files of a message (a name and a download with the user's credentials; images inline).
import { html, useEffect, useState } from '../../lib/ui.js';
import { api } from '../../lib/api.js';

/** Upload one File; resolves to the stored file ({id, name, content_type, size, ...}). */
export function upload(file) {
  const form = new FormData();
  form.append('file', file, file.name);
  return api.post('api/v1/files', form);
}

/** Save a Blob under `name` through a temporary link (no page navigation). */
export function saveBlob(blob, name) {
  const address = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = address;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(address), 10_000);
}

async function download(attachment, name) {
  const answer = await api.get(attachment.download_path.replace(/^\//, ''), { raw: true });
  saveBlob(await answer.blob(), name);
}

function Attachment({ attachment }) {
  const [meta, setMeta] = useState(null);
  const [preview, setPreview] = useState(null);
  const [problem, setProblem] = useState(null);
  useEffect(() => {
    let current = true;
    let address = null;
    api.get(`api/v1/files/${encodeURIComponent(attachment.file_id)}`).then(async (found) => {
      if (!current) return;
      setMeta(found);
      if (/^image\/(png|jpeg|gif|webp)$/.test(found.content_type) && found.size < 5_000_000) {
        const answer = await api.get(attachment.download_path.replace(/^\//, ''), { raw: true });
        address = URL.createObjectURL(await answer.blob());
        if (current) setPreview(address);
      }
    }, (error) => current && setProblem(error.status === 404 ? 'a file no longer available' : error.message));
    return () => { current = false; if (address) URL.revokeObjectURL(address); };
  }, [attachment.file_id]);
  const name = meta?.name || attachment.file_id;
  if (problem) return html`<li class="attachment gone">${attachment.file_id}: ${problem}</li>`;
  return html`<li class="attachment">
    ${preview && html`<img src=${preview} alt=${name}/>`}
    <button type="button" class="link" onClick=${() => download(attachment, name).catch((e) => setProblem(e.message))}
      aria-label=${`Download ${name}`}>${name}</button>
  </li>`;
}

/** The files of a message. */
export function Attachments({ items }) {
  if (!items?.length) return null;
  return html`<ul class="attachments">${items.map((item) => html`<${Attachment} key=${item.file_id} attachment=${item}/>`)}</ul>`;
}
