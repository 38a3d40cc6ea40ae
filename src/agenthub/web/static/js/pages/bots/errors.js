// Error answers said in the constructor's words: what points to a step that can't be deleted
// (by step names, not ids), and an answer's message without its details said twice.
import { ApiError } from '../../lib/api.js';
import { sourceStepId, stepLabel } from './model.js';

function quoted(names) {
  return [...new Set(names)].map((name) => `“${name}”`).join(', ');
}

/** What points to step `stepId` in the loaded draft, in words ("connections from “Ask”"). */
function usesOf(data, stepId, error) {
  const stepName = (id) => stepLabel(data.steps.find((s) => s.id === id) || { name: id });
  const sources = data.connections
    .filter((c) => c.next_step_id === stepId && sourceStepId(data, c) !== stepId)
    .map((c) => { const from = sourceStepId(data, c); return from ? stepName(from) : 'any step (bot level)'; });
  const emitters = data.steps.filter((s) => s.id !== stepId && s.emitter?.next_step_id === stepId).map((s) => stepLabel(s));
  const uses = [];
  if (sources.length) uses.push(`${sources.length === 1 ? 'a connection' : 'connections'} from ${quoted(sources)}`);
  if (emitters.length) uses.push(`the delayed move of ${quoted(emitters)}`);
  if (/\bcrons\b/.test(error.message)) uses.push('scheduled messages (crons) of the bot');
  if (data.bot.first_step_id === stepId) uses.push('the bot, as its first step (make another step the first)');
  return uses;
}

/** A 409 `step_in_use` from deleting `stepId`, said with step names; other errors as they are. */
export function explainStepInUse(error, data, stepId) {
  if (!(error instanceof ApiError) || error.code !== 'step_in_use') return error;
  const uses = usesOf(data, stepId, error);
  if (!uses.length) return error;
  const name = stepLabel(data.steps.find((s) => s.id === stepId) || { name: stepId });
  return new ApiError(error.status, {
    code: error.code, details: error.details,
    message: `“${name}” can't be deleted: it is used by ${uses.join('; ')}. Point them elsewhere first.`,
  });
}

/** An error's message, with the details it does not say already. */
export function errorText(error) {
  const message = error.message || '';
  const where = (error.details || [])
    .filter((d) => d.field && !message.includes(d.problem))
    .map((d) => `${d.field}: ${d.problem}`);
  return where.length ? `${message} (${where.join('; ')})` : message;
}
