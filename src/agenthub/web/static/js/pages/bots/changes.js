// What changed between two loads of a bot, in words ("added step “Ask”, removed 1 connection"),
// for the notice shown when someone else edits the bot being edited.
import { stepLabel } from './model.js';

function plural(count, word) { return `${count} ${word}${count === 1 ? '' : 's'}`; }

export function describeChanges(before, after) {
  if (!before) return 'the draft changed';
  const words = [];
  const old = new Map(before.steps.map((s) => [s.id, s]));
  const now = new Map(after.steps.map((s) => [s.id, s]));
  for (const step of after.steps) if (!old.has(step.id)) words.push(`added step “${stepLabel(step)}”`);
  for (const step of before.steps) if (!now.has(step.id)) words.push(`removed step “${stepLabel(step)}”`);
  const edited = after.steps.filter((s) => old.has(s.id) && old.get(s.id).updated_at !== s.updated_at);
  if (edited.length) words.push(`edited ${edited.map((s) => `“${stepLabel(s)}”`).join(', ')}`);
  const oldConnections = new Set(before.connections.map((c) => c.id));
  const newConnections = new Set(after.connections.map((c) => c.id));
  const added = after.connections.filter((c) => !oldConnections.has(c.id)).length;
  const removed = before.connections.filter((c) => !newConnections.has(c.id)).length;
  const changed = after.connections.filter((c) => oldConnections.has(c.id)
    && before.connections.find((o) => o.id === c.id).updated_at !== c.updated_at).length;
  if (added) words.push(`added ${plural(added, 'connection')}`);
  if (removed) words.push(`removed ${plural(removed, 'connection')}`);
  if (changed) words.push(`changed ${plural(changed, 'connection')}`);
  if (JSON.stringify(before.bot.variables) !== JSON.stringify(after.bot.variables)) words.push('changed the variables');
  if (before.bot.name !== after.bot.name) words.push(`renamed the bot “${after.bot.name}”`);
  return words.length ? words.join(', ') : 'changed the draft';
}
