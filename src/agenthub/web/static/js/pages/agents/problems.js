// A 422's details placed where they belong in the editor: each field shows the problem of its
// path (`settings.http_tools.0.url`), each section the problems of its lists' items and the
// settings-wide problems that name it ("a `chain` agent needs steps"); the rest go on top.
import { html } from '../../lib/ui.js';

const INTEGRATION_PROBLEM = /^[a-z][a-z0-9_]* integration: settings\.([\w.-]+): (.*)$/s;

const PATTERN_PROBLEM = /^String should match pattern '.*'$/s;
const PATTERN_WORDS = 'not in the form it takes (see its hint)';

/** The path and problem of a detail (a regular expression the value did not match said in words); an integration's settings problem, which the server
 * names by the integration ("telegram integration: settings.mode: ..."), by its field. */
function placed(field, problem) {
  const path = String(field || '').replace(/^body\./, '');
  if (PATTERN_PROBLEM.test(problem)) return placed(field, problem.replace(PATTERN_PROBLEM, PATTERN_WORDS));
  const inner = /^settings\.integrations\.\d+$/.test(path) && INTEGRATION_PROBLEM.exec(problem);
  if (!inner) return [path, problem];
  return [`${path}.settings.${inner[1]}`, inner[2].replace(PATTERN_PROBLEM, PATTERN_WORDS)];
}

/** {path: problem} of an ApiError (paths as the server names them, without `body.`). */
export function problemsOf(error) {
  const out = {};
  for (const detail of error?.details || []) {
    const [path, problem] = placed(detail.field, detail.problem);
    out[path] = out[path] ? `${out[path]}; ${problem}` : problem;
  }
  return out;
}

/** The sections, the settings paths each holds, and the words of a settings-wide problem about it. */
export const SECTIONS = {
  basics: { paths: ['id', 'name', 'kind', 'settings.isolation'], words: [] },
  prompt: { paths: ['settings.system_prompt'], words: [] },
  model: {
    paths: ['settings.provider', 'settings.model_id', 'settings.temperature', 'settings.base_url', 'settings.api_key_credential_id'],
    words: ['base_url'],
  },
  type: {
    paths: ['settings.agent_type', 'settings.steps', 'settings.sub_agents', 'settings.max_query_rewrites'],
    words: ['chain', 'multi_agent', 'sub_agents', 'steps', 'rag'],
  },
  tools: {
    paths: ['settings.tools', 'settings.http_tools', 'settings.mcp_servers', 'settings.max_tool_steps'],
    words: ['http_tools', 'mcp_servers', 'tools'],
  },
  memory: { paths: ['settings.memory_blocks', 'settings.context_budget_tokens'], words: ['memory_blocks'] },
  knowledge: { paths: ['settings.knowledge_base_ids'], words: ['knowledge_base_ids'] },
  integrations: { paths: ['settings.integrations'], words: ['integration'] },
  access: { paths: ['settings.access'], words: [] },
};

const within = (path, prefix) => path === prefix || path.startsWith(`${prefix}.`);

function sectionOfWideProblem(problem) {
  for (const [name, { words }] of Object.entries(SECTIONS)) {
    if (words.some((word) => new RegExp(`\\b${word}\\b`).test(problem))) return name;
  }
  return null;
}

/** Which section shows the problem at `path` (null: the top of the form). */
export function sectionOf(path, problem) {
  if (path === 'settings') return sectionOfWideProblem(problem);
  for (const [name, { paths }] of Object.entries(SECTIONS)) {
    if (paths.some((prefix) => within(path, prefix))) return name;
  }
  return null;
}

/**
 * The problems of a section that no field of it shows: those of its lists and their items
 * (`settings.http_tools.0`), and the settings-wide ones naming it. `leaves`: the paths
 * its fields show, as a test (path => bool).
 */
export function sectionProblems(problems, section, leaves) {
  return Object.entries(problems)
    .filter(([path, problem]) => sectionOf(path, problem) === section && (path === 'settings' || !leaves(path)))
    .map(([, problem]) => problem);
}

export function ProblemList({ problems }) {
  if (!problems.length) return null;
  return html`<ul class="field-error section-problems" role="alert">
    ${problems.map((problem) => html`<li>${problem}</li>`)}</ul>`;
}

/** The problems no section takes (a path the form has no field for, or a plain error). */
export function unplaced(problems) {
  return Object.entries(problems).filter(([path, problem]) => sectionOf(path, problem) === null)
    .map(([path, problem]) => (path ? `${path}: ${problem}` : problem));
}
