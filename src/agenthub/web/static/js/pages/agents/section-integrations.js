// Integrations: a Telegram bot (its token an organisation credential, polling or webhook) with
// its status and Start / Stop; other integration types are kept as they are (JSON view).
import { html, useCallback, useState } from '../../lib/ui.js';
import { api } from '../../lib/api.js';
import { href } from '../../lib/router.js';
import { Checkbox, Section, Select, TextInput } from './controls.js';
import { ProblemList, sectionProblems } from './problems.js';
import { agentPath } from './paths.js';
import { usePolling } from './polling.js';

const STORED = '***';
const INTEGRATION_POLL_MS = 5000;
const MODES = [['polling', 'Polling: AgentHub asks Telegram'], ['webhook', 'Webhook: Telegram posts to PUBLIC_URL']];

function TelegramStatus({ agentId }) {
  const [status, setStatus] = useState(null);
  const [problem, setProblem] = useState(null);
  const refresh = useCallback(async () => {
    setStatus(await api.get(agentPath(agentId, '/integrations/telegram/status')));
  }, [agentId]);
  usePolling(refresh, INTEGRATION_POLL_MS, [agentId]);
  const act = async (action) => {
    setProblem(null);
    try {
      setStatus(await api.post(agentPath(agentId, `/integrations/telegram/${action}`)));
    } catch (error) {
      setProblem(error.message);
    }
  };
  const value = status?.status || 'unknown';
  const running = value === 'running' || value === 'starting';
  return html`<div class="agent-inline telegram-status">
    <span aria-live="polite">Bot: <span class=${`badge ${value}`}>${value}</span>
      ${status?.bot_username && html` <code>@${status.bot_username}</code>`}
      ${status?.mode && html` <span class="hint">(${status.mode})</span>`}</span>
    ${!running && html`<button type="button" onClick=${() => act('start')}>Start bot</button>`}
    ${status && value !== 'stopped' && html`<button type="button" onClick=${() => act('stop')}>Stop bot</button>`}
    ${status?.error && html`<span class="field-error">${status.error}</span>`}
    ${problem && html`<span class="field-error" role="alert">${problem}</span>`}
  </div>`;
}

export function IntegrationsSection({ agentId, settings, set, problems, credentials, savedIntegrations }) {
  const integrations = settings.integrations || [];
  const index = integrations.findIndex((item) => item.type === 'telegram');
  const telegram = index >= 0 ? integrations[index].settings || {} : null;
  const others = integrations.filter((item) => item.type !== 'telegram');
  const setTelegram = (next) => {
    if (next === null) set('integrations', others);
    else if (index < 0) set('integrations', [...integrations, { type: 'telegram', settings: next }]);
    else set('integrations', integrations.map((item, at) => (at === index ? { type: 'telegram', settings: next } : item)));
  };
  const change = (change) => setTelegram({ ...telegram, ...change });
  const at = (key) => problems[`settings.integrations.${index}.settings.${key}`];
  const credentialOptions = [
    ['', 'Choose a credential'],
    ...(telegram?.credential_id === STORED ? [[STORED, 'The stored one (unchanged)']] : []),
    ...(credentials || []).map((item) => [item.id, `${item.name} (${item.type})`]),
  ];
  const saved = (savedIntegrations || []).some((item) => item.type === 'telegram');
  return html`<${Section} id="integrations" title="Integrations">
    <${ProblemList} problems=${sectionProblems(problems, 'integrations', (path) => /\.settings\.(credential_id|mode|webhook_secret)$/.test(path))}/>
    <${Checkbox} label="Telegram bot" checked=${telegram !== null}
      onValue=${(on) => setTelegram(on ? { credential_id: '', mode: 'polling' } : null)}
      hint="Changes to integrations apply when saved, without a restart."/>
    ${telegram !== null && html`<div class="agent-subpanel">
      <div class="agent-grid">
        <${Select} label="Bot token credential" value=${telegram.credential_id || ''} options=${credentialOptions}
          onValue=${(value) => change({ credential_id: value })} error=${at('credential_id')}
          hint=${html`Choose a credential holding the token from @BotFather (<a href=${href('settings')}>Settings</a> adds credentials).`}/>
        <${Select} label="Mode" value=${telegram.mode || 'polling'} options=${MODES} onValue=${(value) => change({ mode: value })}
          error=${at('mode')}/>
        ${telegram.mode === 'webhook' && html`<${TextInput} label="Webhook secret (optional)" value=${telegram.webhook_secret}
          onValue=${(value) => change({ webhook_secret: value.trim() ? value : undefined })} error=${at('webhook_secret')}
          hint="16 to 256 of A-Z a-z 0-9 _ -; empty: derived from the token; *** keeps the stored one."/>`}
      </div>
      ${agentId && saved && html`<${TelegramStatus} agentId=${agentId}/>`}
    </div>`}
    ${others.length > 0 && html`<p class="hint">Also: ${others.map((item) => item.type).join(', ')} (edit them in the JSON view).</p>`}
  </${Section}>`;
}
