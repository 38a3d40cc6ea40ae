// What the editor knows of a bot: the bot, its steps, connection groups and connections (the
// draft), its versions and the funnel of its analytics, read from the API in one go; and the
// words and summaries the graph shows.
import { api } from '../../lib/api.js';

/** Everything the editor shows of bot `botId`. */
export async function loadBot(botId) {
  const query = { bot_id: botId };
  const [bot, steps, groups, connections, requests, versions, analytics] = await Promise.all([
    api.get(`api/v1/bots/${encodeURIComponent(botId)}`),
    api.get('api/v1/steps', { query }),
    api.get('api/v1/connection_groups', { query }),
    api.get('api/v1/connections', { query }),
    api.get('api/v1/requests', { query }),
    api.get(`api/v1/bots/${encodeURIComponent(botId)}/versions`),
    api.get(`api/v1/bots/${encodeURIComponent(botId)}/analytics`).catch(() => ({ steps: [] })),
  ]);
  return {
    bot,
    steps: steps.items,
    groups: groups.items,
    connections: connections.items,
    requests: requests.items,
    versions: versions.items,
    funnel: funnelByStep(steps.items, analytics.steps || []),
  };
}

/** The key an export gives a step: its key, else its name made readable, else its id. */
function exportKey(step) {
  if (step.key) return step.key;
  const slug = (step.name || '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  return slug || step.id;
}

/** {step id: {entered, moved_on}}: the funnel names steps by their key in the published document. */
function funnelByStep(steps, stats) {
  const byKey = new Map(stats.map((row) => [row.step_id, row]));
  const out = {};
  for (const step of steps) {
    const row = byKey.get(exportKey(step)) || byKey.get(step.id);
    if (row) out[step.id] = { entered: row.entered, moved_on: row.moved_on };
  }
  return out;
}

/** The id the editor gives the bot's own groups (tried from any step), drawn as one node. */
export const BOT_LEVEL = '__bot_level__';

export function stepLabel(step) {
  return step.name || step.key || 'Untitled step';
}

/** The step a connection leaves from (null for the bot's own groups). */
export function sourceStepId(data, connection) {
  return data.groups.find((group) => group.id === connection.group_id)?.step_id ?? null;
}

const SHORT_OPERATORS = {
  equal: '=', not_equal: '≠', less: '<', less_or_equal: '≤', greater: '>', greater_or_equal: '≥',
};

function ruleSummary(rule) {
  if (rule && Array.isArray(rule.rules)) {
    const inner = rule.rules.map(ruleSummary).join(` ${rule.condition || 'AND'} `);
    const text = rule.rules.length > 1 ? `(${inner})` : inner;
    return rule.not ? `NOT ${text}` : text;
  }
  const field = rule.field || rule.id || '?';
  const operator = SHORT_OPERATORS[rule.operator] || rule.operator?.replaceAll('_', ' ');
  const value = Array.isArray(rule.value) ? rule.value.join('–') : rule.value;
  return value === undefined || value === null ? `${field} ${operator}` : `${field} ${operator} ${value}`;
}

/** A short text of a connection's rules: "always" for `{}`. */
export function rulesSummary(rules) {
  if (!rules || !Array.isArray(rules.rules) || rules.rules.length === 0) return 'always';
  const text = ruleSummary(rules).replace(/^\((.*)\)$/, '$1');
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

/** The label of an edge: its rule summary and its priority. */
export function connectionLabel(connection) {
  return `${rulesSummary(connection.rules)} · p${connection.priority}`;
}
