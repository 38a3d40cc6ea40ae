// A new session starts at the first step without sending its message, and the first message
// is tried against that step's groups: a bot built from scratch says nothing to "hello". While
// the bot has no bot-level connection, a notice offers the usual fix: a bot-level connection
// `message.text equal /start` to the first step (which sends the step's message).
import { html } from '../../lib/ui.js';
import { api } from '../../lib/api.js';
import { stepLabel } from './model.js';

export const START_RULES = { condition: 'AND', rules: [{ field: 'message.text', operator: 'equal', value: '/start' }] };
const START_PRIORITY = 100;

/** Whether the bot has a connection of its own (tried from any step). */
export function hasBotLevelConnection(data) {
  const botGroups = new Set(data.groups.filter((group) => !group.step_id).map((group) => group.id));
  return data.connections.some((connection) => botGroups.has(connection.group_id));
}

/** Add the /start connection: in the bot's first message group (made if there is none). */
export async function addStartGreeting(data) {
  const botId = data.bot.id;
  const groups = data.groups.filter((group) => !group.step_id && group.search_type === 'message');
  const group = groups[0] || await api.post('api/v1/connection_groups', { bot_id: botId, search_type: 'message', order: 0 });
  return api.post('api/v1/connections', {
    group_id: group.id, next_step_id: data.bot.first_step_id, rules: START_RULES, priority: START_PRIORITY,
  });
}

export function StartGreetingNotice({ data, run, onSelect }) {
  const first = data.steps.find((step) => step.id === data.bot.first_step_id);
  if (!first || hasBotLevelConnection(data)) return null;
  const add = () => run(async () => {
    const made = await addStartGreeting(data);
    onSelect({ kind: 'connection', id: made.id });
    return made;
  }, { ok: `Added: /start goes to “${stepLabel(first)}” and sends its message.` });
  return html`<div class="start-notice" role="note" aria-labelledby="start-notice-title">
    <p><strong id="start-notice-title">The bot does not greet yet.</strong> A new chat starts at the first step
      (“${stepLabel(first)}”) without sending its message; the user's first message is tried against that
      step's connections. Add a bot-level connection so that the message <code>/start</code> goes to the first
      step and sends its message.</p>
    <button type="button" class="primary" onClick=${add}>Add a /start greeting</button>
  </div>`;
}
