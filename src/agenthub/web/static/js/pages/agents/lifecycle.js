// An agent's status (polled) with its badge, and the Start / Stop / Restart buttons.
import { html, useState, useCallback } from '../../lib/ui.js';
import { api } from '../../lib/api.js';
import { agentPath } from './paths.js';
import { usePolling } from './polling.js';

export const STATUS_POLL_MS = 3000;
const LIST_POLL_MS_PER_AGENT = 300;
/** How often each of `count` listed agents' status is asked: every 3 s for up to 10 agents,
 * less often for more, so that a long list stays far below the per-user rate limit (600 a
 * minute: 100 agents are 200 requests a minute). */
export const listPollMs = (count) => Math.max(STATUS_POLL_MS, count * LIST_POLL_MS_PER_AGENT);
const LABELS = { starting: 'Starting', running: 'Running', stopped: 'Stopped', error: 'Error' };

/** [status or null, refresh()] of one agent, polled while the page is visible. */
export function useAgentStatus(agentId, intervalMs = STATUS_POLL_MS) {
  const [status, setStatus] = useState(null);
  const refresh = useCallback(async () => {
    if (!agentId) return;
    try {
      setStatus(await api.get(agentPath(agentId, '/status')));
    } catch (error) {
      setStatus({ status: 'unknown', error: error.message });
    }
  }, [agentId]);
  usePolling(refresh, agentId ? intervalMs : null, [agentId]);
  return [status, refresh];
}

export function StatusBadge({ status }) {
  const value = status?.status || 'unknown';
  const label = LABELS[value] || (status ? 'Unknown' : 'Checking…');
  const title = status?.error || (status?.placement ? `Runs: ${status.placement}` : undefined);
  return html`<span class=${`badge agent-status ${value}`} title=${title}>${label}</span>`;
}

/** Start / Stop / Restart of agent `agentId`; `onDone()` after each (to refresh its status). */
export function LifecycleButtons({ agentId, name, status, onDone }) {
  const [busy, setBusy] = useState(null);
  const [problem, setProblem] = useState(null);
  const act = async (action) => {
    setBusy(action);
    setProblem(null);
    try {
      await api.post(agentPath(agentId, `/${action}`));
    } catch (error) {
      setProblem(error.message);
    } finally {
      setBusy(null);
      onDone?.();
    }
  };
  const value = status?.status;
  const running = value === 'running' || value === 'starting';
  const named = (verb) => `${verb} ${name || agentId}`;
  return html`<span class="agent-lifecycle">
    ${!running && html`<button type="button" disabled=${Boolean(busy)} aria-label=${named('Start')}
      onClick=${() => act('start')}>${busy === 'start' ? 'Starting…' : 'Start'}</button>`}
    ${status && value !== 'stopped' && html`<button type="button" disabled=${Boolean(busy)} aria-label=${named('Stop')}
      onClick=${() => act('stop')}>${busy === 'stop' ? 'Stopping…' : 'Stop'}</button>`}
    ${value !== 'stopped' && html`<button type="button" disabled=${Boolean(busy)} aria-label=${named('Restart')}
      onClick=${() => act('restart')}>${busy === 'restart' ? 'Restarting…' : 'Restart'}</button>`}
    ${problem && html`<span class="field-error" role="alert">${problem}</span>`}
  </span>`;
}
