// #/usage?from=YYYY-MM-DD&to=YYYY-MM-DD: your own usage over a period (totals as text, charts
// by day, agent and model, each with its table), your budget and what is left; for owners and
// admins also the organisation's usage (all time, by agent) and its budget.
import { html, useEffect, useId, useState } from '../../lib/ui.js';
import { api } from '../../lib/api.js';
import { useRead } from '../../lib/read.js';
import { navigate } from '../../lib/router.js';
import { isAdmin, useMe } from '../../lib/session.js';
import { BarChart, ColumnChart } from './charts.js';
import { BudgetStatus, OrgBudgetForm } from './budget.js';
import { addDays, count, daysBetween, isoDay, usd } from './format.js';

const DEFAULT_DAYS = 30;
const TOKENS = [{ key: 'in', name: 'Input tokens' }, { key: 'out', name: 'Output tokens' }];
const COST = [{ key: 'cost', name: 'Cost (USD)' }];

function Period({ from, to }) {
  const [first, setFirst] = useState(from);
  const [last, setLast] = useState(to);
  useEffect(() => { setFirst(from); setLast(to); }, [from, to]);
  const wrong = first && last && first > last;
  const submit = (event) => {
    event.preventDefault();
    if (!wrong) navigate(`usage?from=${first || ''}&to=${last || ''}`);
  };
  return html`<form class="period" onSubmit=${submit} aria-label="Period">
    <div class="field"><label for="usage-from">From</label>
      <input id="usage-from" type="date" value=${first} max=${last || undefined}
        aria-invalid=${wrong ? 'true' : undefined} aria-describedby=${wrong ? 'usage-from-error' : undefined}
        onInput=${(e) => setFirst(e.currentTarget.value)}/>
      ${wrong && html`<small id="usage-from-error" class="field-error">must be on or before the last day</small>`}
    </div>
    <div class="field"><label for="usage-to">To</label>
      <input id="usage-to" type="date" value=${last} min=${first || undefined} onInput=${(e) => setLast(e.currentTarget.value)}/>
    </div>
    <button type="submit" class="primary" disabled=${wrong}>Show</button>
  </form>`;
}

function Totals({ totals, label }) {
  return html`<dl class="totals" aria-label=${label}>
    <div><dt>Turns</dt><dd>${count(totals.turns)}</dd></div>
    <div><dt>Tokens in</dt><dd>${count(totals.input_tokens)}</dd></div>
    <div><dt>Tokens out</dt><dd>${count(totals.output_tokens)}</dd></div>
    <div><dt>Cost</dt><dd>${usd(totals.cost)}</dd></div>
  </dl>`;
}

function tokenRows(items, name) {
  return items.map((item) => ({
    label: name(item), short: item.date ? item.date.slice(5) : undefined,
    parts: [{ key: 'in', name: 'in', value: item.input_tokens }, { key: 'out', name: 'out', value: item.output_tokens }],
  }));
}

function costRows(items, name) {
  return items.map((item) => ({
    label: name(item), short: item.date ? item.date.slice(5) : undefined,
    parts: [{ key: 'cost', name: 'cost', value: Number(item.cost) || 0 }],
  }));
}

function FiguresTable({ items, heading, column, name }) {
  return html`<details class="figures">
    <summary>${heading} as a table</summary>
    <div class="table-wrap"><table class="stack-table">
      <thead><tr><th scope="col">${column}</th><th scope="col">Turns</th>
        <th scope="col">Tokens in</th><th scope="col">Tokens out</th><th scope="col">Cost</th></tr></thead>
      <tbody>${items.map((item) => html`<tr>
        <th scope="row">${name(item)}</th><td data-label="Turns">${count(item.turns)}</td><td data-label="Tokens in">${count(item.input_tokens)}</td>
        <td data-label="Tokens out">${count(item.output_tokens)}</td><td data-label="Cost">${usd(item.cost)}</td></tr>`)}</tbody>
    </table></div>
  </details>`;
}

/** One grouping (by day, agent or model): a chart of tokens or cost, and the table. `whose`
 * starts the names ("Your", "The organisation's"), so that every chart's name is its own. */
function Breakdown({ whose, title, items, name, Chart, metric, empty }) {
  const id = useId();
  const sumTokens = items.reduce((sum, item) => sum + item.input_tokens + item.output_tokens, 0);
  const sumCost = items.reduce((sum, item) => sum + (Number(item.cost) || 0), 0);
  const what = `${items.length} ${items.length === 1 ? 'bar' : 'bars'}`;
  const by = title.toLowerCase();
  return html`<section class="breakdown card" aria-labelledby=${id}>
    <h3 id=${id}>${title}</h3>
    ${items.length === 0 ? html`<p class="hint">${empty}</p>` : metric === 'cost'
      ? html`<${Chart} rows=${costRows(items, name)} series=${COST} format=${usd}
          label=${`${whose} cost ${by}: ${what}, ${usd(sumCost)} in all`}/>`
      : html`<${Chart} rows=${tokenRows(items, name)} series=${TOKENS} format=${count}
          label=${`${whose} tokens ${by}: ${what}, ${count(sumTokens)} tokens in all`}/>`}
    ${items.length > 0 && html`<${FiguresTable} items=${items} heading=${`${whose} usage ${by}`} column=${title.replace(/^By /, '').replace(/^./, (c) => c.toUpperCase())} name=${name}/>`}
  </section>`;
}

/** by_day with the days that had no usage, so the chart is a time line. */
function everyDay(byDay, from, to) {
  if (!byDay.length && !(from && to)) return byDay;
  const first = from || byDay[0].date;
  const last = to || byDay[byDay.length - 1].date;
  const days = daysBetween(first, last);
  if (!days) return byDay;
  const known = new Map(byDay.map((day) => [day.date, day]));
  return days.map((date) => known.get(date) || {
    date, turns: 0, input_tokens: 0, output_tokens: 0, total_tokens: 0, cost: '0',
  });
}

function Problem({ error, retry }) {
  return html`<div class="form-error" role="alert">${error.message}
    <button type="button" class="link" onClick=${retry}>Try again</button></div>`;
}

function MyUsage({ period, metric }) {
  const usage = useRead(() => api.get('api/v1/user/usage', { query: { from: period.from, to: period.to } }), `${period.from}|${period.to}`);
  if (usage.error) return html`<${Problem} error=${usage.error} retry=${usage.reload}/>`;
  if (!usage.data) return html`<p class="loading" role="status">Loading usage…</p>`;
  return html`<div class="my-report" aria-busy=${usage.loading ? 'true' : 'false'}>
    <${Report} report=${usage.data} whose="Your" sentence="Your usage" totalsLabel="Your totals" period=${period} metric=${metric}/>
  </div>`;
}

function MyBudget() {
  const budget = useRead(() => api.get('api/v1/user/budget'), 'me');
  return html`<section class="card budget-card" aria-labelledby="my-budget">
    <h2 id="my-budget">Your budget</h2>
    ${budget.error ? html`<${Problem} error=${budget.error} retry=${budget.reload}/>`
      : !budget.data ? html`<p class="loading" role="status">Loading…</p>`
        : html`<${BudgetStatus} budget=${budget.data} none="No budget limits your own turns."/>`}
  </section>`;
}

/** The figures of a report (GET /user/usage, /usage/report): the sentence, the totals and the charts. */
function Report({ report, whose, sentence, totalsLabel, period, metric }) {
  const { totals, by_day: byDay, by_agent: byAgent, by_model: byModel } = report;
  return html`<p class="summary">${`${sentence} ${period.text}: ${count(totals.turns)} ${totals.turns === 1 ? 'turn' : 'turns'}, `
      + `${count(totals.input_tokens)} tokens in and ${count(totals.output_tokens)} out `
      + `(${count(totals.total_tokens)} in all), costing ${usd(totals.cost)}.`}</p>
    <${Totals} totals=${totals} label=${totalsLabel}/>
    ${totals.turns === 0 && html`<p class="hint empty">No turns in this period: chat with an agent, or pick other days.</p>`}
    <div class="breakdowns">
      <${Breakdown} whose=${whose} title="By day" Chart=${ColumnChart} metric=${metric} items=${everyDay(byDay, period.from, period.to)}
        name=${(item) => item.date} empty="No days with usage."/>
      <${Breakdown} whose=${whose} title="By agent" Chart=${BarChart} metric=${metric} items=${byAgent}
        name=${(item) => item.agent_id} empty="No agent answered in this period."/>
      <${Breakdown} whose=${whose} title="By model" Chart=${BarChart} metric=${metric} items=${byModel}
        name=${(item) => item.model} empty="No model answered in this period."/>
    </div>`;
}

function Organisation({ me, period, metric }) {
  const orgId = me.org_id;
  const report = useRead(() => api.get('api/v1/usage/report', { query: { from: period.from, to: period.to } }), `${period.from}|${period.to}`);
  const budget = useRead(() => api.get(`api/v1/orgs/${encodeURIComponent(orgId)}/budget`), orgId);
  return html`<section class="org-usage" aria-labelledby="org-usage">
    <h2 id="org-usage">The organisation</h2>
    <div class="card budget-card">
      <h3>Organisation budget</h3>
      ${budget.error ? html`<${Problem} error=${budget.error} retry=${budget.reload}/>`
        : !budget.data ? html`<p class="loading" role="status">Loading…</p>`
          : html`<${BudgetStatus} budget=${budget.data} none="The organisation has no budget."/>
            <${OrgBudgetForm} orgId=${orgId} budget=${budget.data} onSaved=${budget.reload}/>`}
    </div>
    ${report.error ? html`<${Problem} error=${report.error} retry=${report.reload}/>`
      : !report.data ? html`<p class="loading" role="status">Loading…</p>`
        : html`<div class="org-report" aria-busy=${report.loading ? 'true' : 'false'}>
          <${Report} report=${report.data} whose="The organisation's" sentence="Everyone's usage (members, API keys, end users)" totalsLabel="The organisation's totals"
            period=${period} metric=${metric}/></div>`}
  </section>`;
}

export default function UsagePage({ route }) {
  const me = useMe();
  const today = isoDay(new Date());
  const chosen = route.query.has('from') || route.query.has('to');
  const from = chosen ? route.query.get('from') || '' : addDays(today, 1 - DEFAULT_DAYS);
  const to = chosen ? route.query.get('to') || '' : today;
  const [metric, setMetric] = useState('tokens');
  const period = { from, to, text: from || to ? `from ${from || 'the start'} to ${to || 'today'}` : 'all time' };
  return html`<section class="usage" aria-labelledby="usage-title">
    <div class="usage-head">
      <h1 id="usage-title">Usage</h1>
      <${Period} from=${from} to=${to}/>
      <fieldset class="metric">
        <legend>Charts show</legend>
        <label><input type="radio" name="metric" value="tokens" checked=${metric === 'tokens'}
          onChange=${() => setMetric('tokens')}/> Tokens</label>
        <label><input type="radio" name="metric" value="cost" checked=${metric === 'cost'}
          onChange=${() => setMetric('cost')}/> Cost</label>
      </fieldset>
    </div>
    <${MyBudget}/>
    <section class="my-usage" aria-labelledby="my-usage">
      <h2 id="my-usage">Your usage</h2>
      <${MyUsage} period=${period} metric=${metric}/>
    </section>
    ${isAdmin(me) ? html`<${Organisation} me=${me} period=${period} metric=${metric}/>`
      : html`<p class="hint">The organisation's usage and budget are shown to its owners and admins.</p>`}
  </section>`;
}
