// A budget and what is left of it (GET /user/budget, /orgs/{id}/budget), and, for owners and
// admins, the form that sets the organisation's (PUT /orgs/{id}/budget).
import { html, useState } from '../../lib/ui.js';
import { ApiError, api } from '../../lib/api.js';
import { Field, FormError, fieldError } from '../../lib/forms.js';
import { per, usd, when } from './format.js';

export function BudgetStatus({ budget, none }) {
  if (!budget || budget.max_budget === null || budget.max_budget === undefined) {
    return html`<p class="budget-none">${none}</p>`;
  }
  const max = Number(budget.max_budget);
  const spend = Math.min(Number(budget.spend) || 0, max);
  const spent = max > 0 ? Math.round((spend / max) * 100) : 100;
  return html`<div class="budget">
    <p class="budget-text"><strong>${usd(budget.remaining)} left</strong>${
      ` of ${usd(budget.max_budget)} ${budget.budget_duration ? per(budget.budget_duration) : '(never restarts)'}: `
      + `${usd(budget.spend)} spent${budget.resets_at ? `, restarts ${when(budget.resets_at)}` : ''}.`}</p>
    <div class="budget-bar" role="progressbar" aria-label="Budget spent" aria-valuemin="0" aria-valuemax="100"
      aria-valuenow=${spent} aria-valuetext=${`${spent} % spent`}>
      <span class=${spent >= 100 ? 'spent full' : 'spent'} style=${{ width: `${spent}%` }}></span>
    </div>
  </div>`;
}

const AMOUNT = /^[0-9]{1,10}(\.[0-9]{0,8})?$/;

/** What is wrong with the amount typed (null: nothing), said before anything is sent. */
export function amountProblem(text) {
  const typed = String(text).trim();
  if (!typed) return 'must not be empty: an amount in US dollars, such as 25 or 10.50';
  const amount = Number(typed);
  if (Number.isNaN(amount)) return 'must be an amount in US dollars, such as 25 or 10.50';
  if (amount < 0) return 'must be 0 or more';
  if (!AMOUNT.test(typed)) return 'must have at most 10 digits before the point and 8 after it';
  return null;
}

const DURATION_CHOICES = [['1d', 'Per day'], ['1w', 'Per week'], ['1mo', 'Per month'], ['', 'Never restarts']];

export function OrgBudgetForm({ orgId, budget, onSaved }) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [amount, setAmount] = useState(budget?.max_budget ?? '');
  const [duration, setDuration] = useState(budget?.max_budget ? (budget.budget_duration ?? '') : '1mo');
  const submit = async (event) => {
    event.preventDefault();
    const problem = amountProblem(amount);
    if (problem) {
      setError(new ApiError(422, { message: `Organisation budget ${problem}.`, details: [{ field: 'max_budget', problem }] }));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      onSaved(await api.put(`api/v1/orgs/${encodeURIComponent(orgId)}/budget`, {
        max_budget: String(amount).trim(), budget_duration: duration || null,
      }));
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="budget-form" onSubmit=${submit}>
    <${FormError} error=${error} fields=${['max_budget', 'budget_duration']}/>
    <div class="inline-fields">
      <${Field} label="Organisation budget (USD)" name="max_budget" inputmode="decimal" required
        value=${amount} onInput=${(e) => setAmount(e.currentTarget.value)} error=${fieldError(error, 'max_budget')}/>
      <${Field} as="select" label="Period" name="budget_duration" value=${duration}
        onChange=${(e) => setDuration(e.currentTarget.value)} error=${fieldError(error, 'budget_duration')}>
        ${DURATION_CHOICES.map(([value, text]) => html`<option value=${value}>${text}</option>`)}
      </${Field}>
      <button type="submit" disabled=${busy}>Set budget</button>
    </div>
  </form>`;
}
