// The rules of a connection, jQuery-QueryBuilder JSON: groups (AND / OR, optionally NOT) of
// rules {field, operator, value} and nested groups. `{}` always holds. The operators offered
// follow the field's type (text, number, list), as far as it is known.
import { html, useId } from '../../lib/ui.js';

const NO_VALUE = new Set(['is_empty', 'is_not_empty', 'is_null', 'is_not_null']);
const TWO_VALUES = new Set(['between', 'not_between']);
const PRESENCE = ['is_empty', 'is_not_empty', 'is_null', 'is_not_null'];
const OPERATORS = {
  text: ['equal', 'not_equal', 'contains', 'not_contains', 'begins_with', 'not_begins_with', 'ends_with',
    'not_ends_with', 'matches', 'not_matches', 'in', 'not_in', ...PRESENCE],
  number: ['equal', 'not_equal', 'less', 'less_or_equal', 'greater', 'greater_or_equal', 'between', 'not_between',
    'in', 'not_in', 'is_null', 'is_not_null'],
  list: ['contains', 'not_contains', 'is_empty', 'is_not_empty', 'is_null', 'is_not_null'],
};
OPERATORS.any = [...new Set([...OPERATORS.text, ...OPERATORS.number])];
const OPERATOR_WORDS = {
  equal: 'equals', not_equal: 'does not equal', less: 'is less than', less_or_equal: 'is at most',
  greater: 'is greater than', greater_or_equal: 'is at least', between: 'is between', not_between: 'is not between',
  in: 'is one of', not_in: 'is none of', contains: 'contains', not_contains: 'does not contain',
  begins_with: 'begins with', not_begins_with: 'does not begin with', ends_with: 'ends with',
  not_ends_with: 'does not end with', matches: 'matches (regex)', not_matches: 'does not match (regex)',
  is_empty: 'is empty', is_not_empty: 'is not empty', is_null: 'is missing', is_not_null: 'is present',
};
const KNOWN_FIELDS = { 'message.text': 'text', 'message.button': 'text', 'message.attachments': 'list', 'channel.name': 'text' };

/** The fields the field box suggests: the message's, the bot's variables, the usual scopes. */
export function suggestedFields(botVariables = {}) {
  return [...Object.keys(KNOWN_FIELDS), ...Object.keys(botVariables).map((name) => `bot.${name}`),
    'session.', 'user.first_name', 'user.'];
}

export function fieldType(field, botVariables = {}) {
  if (KNOWN_FIELDS[field]) return KNOWN_FIELDS[field];
  if (field?.startsWith('bot.')) {
    const value = botVariables[field.slice(4)];
    if (typeof value === 'number') return 'number';
    if (Array.isArray(value)) return 'list';
    if (typeof value === 'string') return 'text';
  }
  return 'any';
}

export const NEW_RULE = () => ({ field: 'message.text', operator: 'equal', value: '' });

const PROBLEM_AT = /^rules((?:\.rules\[\d+\])*)(?:\.([a-z_]+))?: ([\s\S]*)$/;

/** Where the problems of a 422 on `rules` belong: {placed: {"0.1": {value: "…"}}, rest: [text]}.
 * The API says where in its problem ("rules.rules[0].rules[1].value: not a regular expression"). */
export function rulesProblems(error) {
  const placed = {};
  const rest = [];
  for (const detail of error?.details || []) {
    if (!String(detail.field).startsWith('rules')) continue;
    const match = PROBLEM_AT.exec(detail.problem || '');
    if (!match) { rest.push(detail.problem); continue; }
    const path = [...match[1].matchAll(/\[(\d+)\]/g)].map((m) => m[1]).join('.');
    placed[path] = { ...placed[path], [match[2] || '']: match[3] };
  }
  return { placed, rest };
}

function Problem({ id, text }) {
  return text ? html`<small id=${id} class="field-error">${text}</small>` : null;
}

function RuleRow({ rule, onChange, onRemove, botVariables, listId, problems = {} }) {
  const id = useId();
  const invalid = (name) => (problems[name] ? 'true' : undefined);
  const describe = (name) => (problems[name] ? `${id}-${name}-error` : undefined);
  const field = rule.field ?? rule.id ?? '';
  const operators = OPERATORS[fieldType(field, botVariables)];
  const operator = operators.includes(rule.operator) ? rule.operator : rule.operator || operators[0];
  const choices = operators.includes(operator) ? operators : [operator, ...operators];
  const set = (patch) => {
    const next = { ...rule, ...patch };
    delete next.id;
    if (NO_VALUE.has(next.operator)) delete next.value;
    else if (TWO_VALUES.has(next.operator) && !Array.isArray(next.value)) next.value = [next.value ?? '', ''];
    else if (!TWO_VALUES.has(next.operator) && Array.isArray(next.value)) next.value = next.value[0] ?? '';
    else if (next.value === undefined) next.value = '';
    onChange(next);
  };
  return html`<li class="rule-row">
    <div class="field"><label for=${`${id}-field`}>Field</label>
      <input id=${`${id}-field`} list=${listId} value=${field} aria-invalid=${invalid('field')} aria-describedby=${describe('field')}
        onInput=${(e) => set({ field: e.currentTarget.value })}/>
      <${Problem} id=${describe('field')} text=${problems.field}/></div>
    <div class="field"><label for=${`${id}-op`}>Operator</label>
      <select id=${`${id}-op`} value=${operator} aria-invalid=${invalid('operator')} aria-describedby=${describe('operator')}
        onChange=${(e) => set({ operator: e.currentTarget.value })}>
        ${choices.map((name) => html`<option value=${name}>${OPERATOR_WORDS[name] || name}</option>`)}
      </select>
      <${Problem} id=${describe('operator')} text=${problems.operator}/></div>
    ${!NO_VALUE.has(operator) && !TWO_VALUES.has(operator) && html`<div class="field"><label for=${`${id}-value`}>Value</label>
      <input id=${`${id}-value`} value=${rule.value ?? ''} aria-invalid=${invalid('value')} aria-describedby=${describe('value')}
        onInput=${(e) => set({ value: e.currentTarget.value })}
        placeholder=${operator === 'in' || operator === 'not_in' ? 'a, b, c' : ''}/>
      <${Problem} id=${describe('value')} text=${problems.value}/></div>`}
    ${TWO_VALUES.has(operator) && html`<div class="field"><label for=${`${id}-low`}>From</label>
      <input id=${`${id}-low`} value=${rule.value?.[0] ?? ''} aria-invalid=${invalid('value')} aria-describedby=${describe('value')}
        onInput=${(e) => set({ value: [e.currentTarget.value, rule.value?.[1] ?? ''] })}/>
      <${Problem} id=${describe('value')} text=${problems.value}/></div>
      <div class="field"><label for=${`${id}-high`}>To</label>
      <input id=${`${id}-high`} value=${rule.value?.[1] ?? ''} onInput=${(e) => set({ value: [rule.value?.[0] ?? '', e.currentTarget.value] })}/></div>`}
    ${Object.entries(problems).filter(([name]) => !['field', 'operator', 'value'].includes(name))
      .map(([name, text]) => html`<p class="field-error rule-problem">${name ? `${name}: ` : ''}${text}</p>`)}
    <button type="button" class="link danger" onClick=${onRemove} aria-label="Remove this rule">Remove</button>
  </li>`;
}

function RuleGroup({ group, onChange, onRemove, botVariables, listId, depth = 0, path = '', problems = {} }) {
  const id = useId();
  const at = (index) => (path ? `${path}.${index}` : String(index));
  const own = problems[path] || {};
  const rules = group.rules || [];
  const setRule = (index, next) => onChange({ ...group, rules: rules.map((r, i) => (i === index ? next : r)) });
  const removeRule = (index) => onChange({ ...group, rules: rules.filter((_, i) => i !== index) });
  return html`<fieldset class="rule-group" data-depth=${depth}>
    <legend>${depth === 0 ? 'Rules' : 'Group'}</legend>
    <div class="rule-group-head">
      <label for=${`${id}-cond`}>Match</label>
      <select id=${`${id}-cond`} value=${group.condition || 'AND'} onChange=${(e) => onChange({ ...group, condition: e.currentTarget.value })}>
        <option value="AND">all (AND)</option><option value="OR">any (OR)</option>
      </select>
      <label class="inline"><input type="checkbox" checked=${Boolean(group.not)}
        onChange=${(e) => onChange({ ...group, not: e.currentTarget.checked })}/> NOT</label>
      ${onRemove && html`<button type="button" class="link danger" onClick=${onRemove} aria-label="Remove this group">Remove group</button>`}
    </div>
    ${Object.entries(own).map(([name, text]) => html`<p class="field-error">${name ? `${name}: ` : ''}${text}</p>`)}
    <ul class="rule-list">
      ${rules.map((rule, index) => (Array.isArray(rule.rules)
        ? html`<li><${RuleGroup} group=${rule} depth=${depth + 1} botVariables=${botVariables} listId=${listId}
            path=${at(index)} problems=${problems}
            onChange=${(next) => setRule(index, next)} onRemove=${() => removeRule(index)}/></li>`
        : html`<${RuleRow} rule=${rule} botVariables=${botVariables} listId=${listId} problems=${problems[at(index)]}
            onChange=${(next) => setRule(index, next)} onRemove=${() => removeRule(index)}/>`))}
    </ul>
    <div class="rule-group-actions">
      <button type="button" onClick=${() => onChange({ ...group, rules: [...rules, NEW_RULE()] })}>Add rule</button>
      <button type="button" onClick=${() => onChange({ ...group, rules: [...rules, { condition: 'AND', rules: [NEW_RULE()] }] })}>Add group</button>
    </div>
  </fieldset>`;
}

/** Edit `value` (a rules object); `onChange` gets the new one (`{}` once no rule is left). */
export function RulesEditor({ value, onChange, botVariables, problems = {} }) {
  const listId = useId();
  const empty = !value || !Array.isArray(value.rules) || value.rules.length === 0;
  return html`<div class="rules-editor">
    <datalist id=${listId}>${suggestedFields(botVariables).map((name) => html`<option value=${name}></option>`)}</datalist>
    ${empty
      ? html`<p class="hint">No rules: this connection always holds (the else branch).</p>
          <button type="button" onClick=${() => onChange({ condition: 'AND', rules: [NEW_RULE()] })}>Add rule</button>`
      : html`<${RuleGroup} group=${value} botVariables=${botVariables} listId=${listId} problems=${problems}
          onChange=${(next) => onChange(next.rules.length ? next : {})}/>`}
  </div>`;
}
