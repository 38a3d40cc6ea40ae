// One message of a chat: the user's as plain text, the agent's as sanitised Markdown (no HTML
// from a model runs in the page), with its files and a scenario bot's buttons.
import { html } from '../../lib/ui.js';
import { Markdown } from '../../lib/markdown.js';
import { Attachments } from './files.js';

const WHO = { user: 'You', assistant: 'Agent', error: 'Error' };

function Buttons({ widget, onPress, disabled }) {
  const buttons = widget?.buttons || [];
  if (!buttons.length) return null;
  return html`<div class="widget-buttons" role="group" aria-label="Answers to choose from">
    ${buttons.map((button) => html`<button type="button" disabled=${disabled}
      onClick=${() => onPress(button)}>${button.text ?? button.value}</button>`)}
  </div>`;
}

/** Whether an answer came with nothing to show (a scenario bot's message no connection took). */
export function isEmptyAnswer(entry) {
  return entry.role === 'assistant' && !entry.streaming && !entry.content?.trim()
    && !entry.attachments?.length && !entry.widget?.buttons?.length;
}

function body(entry) {
  if (isEmptyAnswer(entry)) return html`<p class="text hint no-answer">No answer.</p>`;
  if (entry.role === 'assistant') return html`<${Markdown} text=${entry.content} class="markdown text"/>`;
  return html`<p class="text plain">${entry.shown ?? entry.content}</p>`;
}

export function Bubble({ entry, agentName, onPress, canPress }) {
  const who = entry.role === 'assistant' ? agentName || WHO.assistant : WHO[entry.role];
  const classes = ['bubble', entry.role, entry.streaming && 'streaming', (entry.stopped || entry.abandoned) && 'stopped',
    entry.refused && 'refused', isEmptyAnswer(entry) && 'empty']
    .filter(Boolean).join(' ');
  return html`<li class=${classes} data-message-id=${entry.message_id}>
    <span class="who">${who}</span>
    ${body(entry)}
    <${Attachments} items=${entry.attachments}/>
    <${Buttons} widget=${entry.widget} onPress=${onPress} disabled=${!canPress}/>
    ${entry.stopped && html`<small class="hint">Stopped.</small>`}
    ${entry.abandoned && html`<small class="hint">No longer shown here: the agent may still finish this answer (reload to see it).</small>`}
    ${entry.refused && html`<small class="hint">Not sent.</small>`}
  </li>`;
}
