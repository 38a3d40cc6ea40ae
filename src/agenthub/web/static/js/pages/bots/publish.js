// Draft and publish: which version sessions run, whether the draft moved since, the Publish
// button (a draft that is not a valid bot yet says where) and the list of versions.
import { html } from '../../lib/ui.js';
import { api } from '../../lib/api.js';
import { href } from '../../lib/router.js';

export function PublishBar({ data, run, onNotice }) {
  const { bot, versions } = data;
  const publish = async () => {
    const version = await run(() => api.post(`api/v1/bots/${bot.id}/publish`, {}));
    if (version) onNotice({ ok: `Published version ${version.version}.` });
  };
  return html`<div class="publish-bar">
    <span class="draft-state">${bot.published_version
      ? html`Running <strong>version ${bot.published_version}</strong>${bot.draft_changed ? html` · <span class="badge">draft edited</span>` : ' · draft = published'}`
      : html`<span class="badge">never published</span>`}</span>
    <button type="button" class="primary" onClick=${publish} disabled=${bot.published_version && !bot.draft_changed}>Publish</button>
    ${bot.published_version && html`<a href=${href(`chat/${bot.id}`)}>Chat with the published bot</a>`}
    <details class="versions">
      <summary>Versions (${versions.length})</summary>
      ${versions.length === 0 ? html`<p class="hint">None yet.</p>` : html`<ol>${versions.map((v) => html`<li key=${v.version}>
        v${v.version}: ${new Date(v.published_at).toLocaleString()}${v.published_by ? ` by ${v.published_by}` : ''}</li>`)}</ol>`}
    </details>
  </div>`;
}
