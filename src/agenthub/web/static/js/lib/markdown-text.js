// Markdown as one line of plain text, for labels (a chat's title in the chat list): the words a
// reader sees, without the marks that make them bold, a heading, a link or code. marked reads
// the text (the same parser as markdown.js); HTML in it stays as its characters, as a bubble
// shows it. The result is text for a text node, never HTML.
import { Lexer } from '../../vendor/marked.esm.js';

const NAMED = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

function decodeEntities(text) {
  return text.replace(/&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|(amp|lt|gt|quot|apos|nbsp));/g, (whole, decimal, hex, name) => {
    if (name) return NAMED[name];
    const code = decimal ? Number(decimal) : Number.parseInt(hex, 16);
    return code > 0 && code <= 0x10ffff && (code < 0xd800 || code > 0xdfff) ? String.fromCodePoint(code) : whole;
  });
}

const tokensText = (tokens) => (tokens || []).map(tokenText).join('');

function tokenText(token) {
  switch (token.type) {
    case 'space': case 'hr': case 'br': return ' ';
    case 'def': case 'checkbox': return '';
    // A fenced or indented block: its code, without the fence or the language.
    case 'code': return ` ${token.text} `;
    case 'codespan': case 'escape': case 'html': return token.text;
    case 'list': return token.items.map((item) => ` ${tokensText(item.tokens)} `).join('');
    case 'table': return [token.header, ...token.rows].map((cells) => cells.map((cell) => ` ${tokensText(cell.tokens)} `).join('')).join('');
    case 'paragraph': case 'heading': case 'blockquote': return ` ${tokensText(token.tokens)} `;
    case 'text': return token.tokens ? tokensText(token.tokens) : decodeEntities(token.text);
    // Links show their text (an autolink, its address); images their description.
    default: return token.tokens ? tokensText(token.tokens) : decodeEntities(token.text ?? token.raw ?? '');
  }
}

// A title is the start of a message, cut at a length: a link cut in its address is shown as
// its text, not as the brackets and the half address.
const CUT_LINK = /(!?)\[([^\]\n]*)\]\([^)\n]*$/;

// ... and bold, struck-through or code text cut before its closing mark is shown as that text,
// not with its opening `**`, `__`, `~~` or backtick: a mark that opens more often than it
// closes is closed at the end (in the reverse order of where each was last opened).
const PAIRED_MARKS = ['**', '__', '~~', '`'];

function closeCutMarks(text) {
  const open = [];
  for (const mark of PAIRED_MARKS) {
    const count = text.split(mark).length - 1;
    if (count % 2 === 1) open.push([text.lastIndexOf(mark), mark]);
  }
  open.sort((a, b) => b[0] - a[0]);
  return text + open.map(([, mark]) => mark).join('');
}

/** The plain text of a Markdown text on one line (spaces collapsed, trimmed). */
export function markdownText(source) {
  const text = closeCutMarks(String(source ?? '').replace(CUT_LINK, '$1[$2]()'));
  const tokens = Lexer.lex(text, { gfm: true, breaks: true });
  return tokensText(tokens).replace(/\s+/g, ' ').trim();
}
