// Markdown from models and users, rendered safely: marked turns it into HTML, with any HTML
// the text itself holds shown as text (escaped, never parsed); DOMPurify then keeps only
// harmless markup (no script, no event handler, no javascript: link, no form) as a second
// guard, and links open in a new tab without giving it this page.
import { marked } from '../../vendor/marked.esm.js';
import DOMPurify from '../../vendor/purify.es.js';
import { html } from './ui.js';

const ESCAPED = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (text) => String(text).replace(/[&<>"']/g, (character) => ESCAPED[character]);

marked.use({
  gfm: true,
  breaks: true,
  // Raw HTML in the text (a block or inline tag) is shown as the characters it is made of.
  renderer: { html: ({ text }) => escapeHtml(text) },
});

DOMPurify.addHook('afterSanitizeAttributes', (node) => {
  if (node.tagName === 'A' && node.getAttribute('href')) {
    node.setAttribute('target', '_blank');
    node.setAttribute('rel', 'noopener noreferrer nofollow');
  }
  if (node.tagName === 'IMG') node.setAttribute('loading', 'lazy');
});

const PURIFY = {
  USE_PROFILES: { html: true },
  FORBID_TAGS: ['style', 'form', 'input', 'button', 'textarea', 'select', 'iframe'],
  FORBID_ATTR: ['style'],
};

/** Sanitised HTML of a Markdown text. */
export function markdownHtml(text) {
  return DOMPurify.sanitize(marked.parse(String(text ?? '')), PURIFY);
}

/** <Markdown text=${...}/>: the text rendered (sanitised) in a div. */
export function Markdown({ text, class: className = 'markdown' }) {
  return html`<div class=${className} dangerouslySetInnerHTML=${{ __html: markdownHtml(text) }}></div>`;
}
