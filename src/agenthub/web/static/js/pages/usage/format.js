// How the usage area writes numbers, money and days.

const COUNT = new Intl.NumberFormat('en-GB');

export function count(value) {
  return COUNT.format(Math.round(Number(value) || 0));
}

/** USD from the API's decimal strings: cents, or more places for small amounts; null: unknown. */
export function usd(value) {
  if (value === null || value === undefined) return 'no known price';
  const amount = Number(value);
  if (!Number.isFinite(amount)) return String(value);
  if (amount === 0) return '$0.00';
  if (Math.abs(amount) < 0.01) return `$${Number(amount.toPrecision(2))}`;
  return `$${amount.toLocaleString('en-GB', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

/** YYYY-MM-DD of a Date, in UTC (the API's days are UTC days). */
export function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

export function addDays(day, days) {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return isoDay(date);
}

/** Every day from `first` to `last`, both included (none when more than `limit`). */
export function daysBetween(first, last, limit = 400) {
  const days = [];
  for (let day = first; day <= last && days.length <= limit; day = addDays(day, 1)) days.push(day);
  return days.length > limit ? null : days;
}

export function when(value) {
  if (!value) return '';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' });
}

const DURATIONS = { s: 'second', m: 'minute', h: 'hour', d: 'day', w: 'week', mo: 'month' };

/** "1mo" -> "per month", "12h" -> "per 12 hours"; null -> "". */
export function per(duration) {
  const found = /^(\d+)(mo|s|m|h|d|w)$/.exec(duration || '');
  if (!found) return duration ? `per ${duration}` : '';
  const [, amount, unit] = found;
  return amount === '1' ? `per ${DURATIONS[unit]}` : `per ${amount} ${DURATIONS[unit]}s`;
}
