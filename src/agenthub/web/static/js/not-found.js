// What a logged-in user sees at an address the console has no page for (a mistyped or old
// link, `#/nonsense`): that the page does not exist, and the ways back into the console.
import { html } from './lib/ui.js';
import { href } from './lib/router.js';

export function NotFound({ path, home }) {
  return html`<section class="card not-found" aria-labelledby="not-found-title">
    <h1 id="not-found-title">Page not found</h1>
    <p>The console has no page at <code>#/${path}</code>.</p>
    <p><a href=${href(home)}>Go to the chat</a>, or choose an area in the menu above.</p>
  </section>`;
}
