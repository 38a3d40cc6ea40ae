// One agent's editor (`#/agents/<id>`), or a new agent's (`#/agents/+new`): every section of its
// configuration in one form saved by PATCH (POST when new), the server's 422 problems shown
// under the fields they name; its status and lifecycle; its users' memory; a JSON view.
import { html, useEffect, useState } from '../../lib/ui.js';
import { api } from '../../lib/api.js';
import { href, navigate } from '../../lib/router.js';
import { agentPath } from './paths.js';
import { LifecycleButtons, StatusBadge, useAgentStatus } from './lifecycle.js';
import { ProblemList, problemsOf, unplaced } from './problems.js';
import { BasicsSection, PromptSection } from './section-basics.js';
import { ModelSection } from './section-model.js';
import { TypeSection } from './section-type.js';
import { ToolsSection } from './section-tools.js';
import { MemoryPanel, MemorySettingsSection } from './section-memory.js';
import { KnowledgeSection } from './section-knowledge.js';
import { IntegrationsSection } from './section-integrations.js';
import { AccessSection } from './section-access.js';
import { JsonView } from './json-view.js';

const FLASH_KEY = 'agenthub.agents.flash';
const KIND_SETTINGS = { scenario: ['isolation', 'access', 'integrations'] };
/** A new agent's settings: what the server's defaults are, but the provider, to be chosen. */
const NEW_SETTINGS = {
  system_prompt: '', provider: '', model_id: '', temperature: 0.7, base_url: null, api_key_credential_id: null,
  agent_type: 'simple', tools: [], http_tools: [], mcp_servers: [], steps: [], sub_agents: [],
  knowledge_base_ids: [], max_tool_steps: 10, memory_blocks: null, max_query_rewrites: 2,
  context_budget_tokens: 8000, isolation: 'shared', access: 'organization', integrations: [],
};

function takeFlash() {
  const kept = sessionStorage.getItem(FLASH_KEY);
  sessionStorage.removeItem(FLASH_KEY);
  try { return kept ? JSON.parse(kept) : null; } catch { return null; }
}

/** What the editor needs from elsewhere: providers, credentials, the organisation's agents. */
function useReferences() {
  const [refs, setRefs] = useState({ providers: null, credentials: null, agents: null });
  useEffect(() => {
    const keep = (key) => (answer) => setRefs((old) => ({ ...old, [key]: answer.items }));
    api.get('api/v1/providers').then(keep('providers'), () => {});
    api.get('api/v1/credentials').then(keep('credentials'), () => {});
    api.get('api/v1/agents', { query: { limit: 500 } }).then(keep('agents'), () => {});
  }, []);
  return refs;
}

function SaveResult({ result, agentId, onRestarted }) {
  const [restarting, setRestarting] = useState(false);
  const [problem, setProblem] = useState(null);
  if (!result) return null;
  const restart = async () => {
    setRestarting(true);
    setProblem(null);
    try {
      await api.post(agentPath(agentId, '/restart'));
      onRestarted();
    } catch (error) {
      setProblem(error.message);
    } finally {
      setRestarting(false);
    }
  };
  return html`<div class="agent-result" role="status">
    <span class="ok">${result.message || 'Saved.'}</span>
    ${result.warning && html`<span class="agent-warning">${result.warning}</span>`}
    ${result.restart_required && html`<button type="button" onClick=${restart} disabled=${restarting}>
      ${restarting ? 'Restarting…' : 'Restart to apply'}</button>`}
    ${problem && html`<span class="field-error">${problem}</span>`}
  </div>`;
}

export function AgentEditor({ agentId }) {
  const isNew = !agentId;
  const [agent, setAgent] = useState(null);
  const [loadError, setLoadError] = useState(null);
  const [name, setName] = useState('');
  const [newId, setNewId] = useState('');
  const [settings, setSettings] = useState(isNew ? { ...NEW_SETTINGS } : null);
  const [error, setError] = useState(null);
  const [result, setResult] = useState(takeFlash);
  const [busy, setBusy] = useState(false);
  const [dirty, setDirty] = useState(false);
  const refs = useReferences();
  const [status, refreshStatus] = useAgentStatus(agentId);

  const take = (read) => {
    setAgent(read);
    setName(read.name);
    setSettings(read.settings);
  };
  useEffect(() => {
    if (isNew) return;
    api.get(agentPath(agentId)).then(take, setLoadError);
  }, [agentId]);
  useEffect(() => {
    if (!error) return;
    const target = document.querySelector('.agents-editor [aria-invalid="true"]')
      || document.querySelector('.agents-editor [role="alert"]');
    target?.focus?.();
    target?.scrollIntoView?.({ block: 'center' });
  }, [error]);

  useEffect(() => {
    if (!dirty) return undefined;
    const warn = (event) => { event.preventDefault(); event.returnValue = ''; };
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [dirty]);

  const set = (key, value) => {
    setSettings((old) => ({ ...old, [key]: value }));
    setResult(null);
    setDirty(true);
  };
  const kind = agent?.kind || 'llm';
  const body = () => {
    const keys = KIND_SETTINGS[kind];
    const sent = keys ? Object.fromEntries(keys.map((key) => [key, settings[key]])) : settings;
    return { name, settings: sent };
  };

  /** Save `sent` ({name, settings, id?}); true when saved. */
  const send = async (sent) => {
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      if (isNew) {
        const created = await api.post('api/v1/agents', { kind: 'llm', ...sent });
        sessionStorage.setItem(FLASH_KEY, JSON.stringify({ message: 'Agent created.', warning: created.warning }));
        navigate(`agents/${encodeURIComponent(created.id)}`, { replace: true });
        return true;
      }
      const updated = await api.patch(agentPath(agentId), sent);
      take(updated);
      setDirty(false);
      setResult(updated);
      refreshStatus();
      return true;
    } catch (failure) {
      setError(failure);
      return false;
    } finally {
      setBusy(false);
    }
  };
  const submit = (event) => {
    event.preventDefault();
    send({ ...body(), ...(isNew && newId.trim() ? { id: newId.trim() } : {}) });
  };

  if (loadError) {
    return html`<section class="agents-editor">
      <p><a href=${href('agents')}>← All agents</a></p>
      <p class="form-error" role="alert">${loadError.status === 404 ? 'There is no such agent.' : loadError.message}</p>
    </section>`;
  }
  if (!settings) return html`<p class="loading" role="status">Loading the agent…</p>`;

  const problems = problemsOf(error);
  const leftover = unplaced(problems);
  const shared = { settings, set, problems };
  const llm = kind === 'llm';
  return html`<section class="agents-editor">
    <p class="agents-back"><a href=${href('agents')}>← All agents</a></p>
    <div class="agents-head">
      <h1>${isNew ? 'New agent' : agent.name}</h1>
      ${!isNew && html`<span aria-live="polite"><${StatusBadge} status=${status}/></span>
        <${LifecycleButtons} agentId=${agentId} name=${agent.name} status=${status} onDone=${refreshStatus}/>
        <a class="button" href=${href(`chat/${encodeURIComponent(agentId)}`)}>Chat</a>`}
    </div>
    ${status?.status === 'error' && status.error && html`<p class="form-error">${status.error}</p>`}
    <form id="agent-form" class="agent-form" onSubmit=${submit} novalidate aria-label=${isNew ? 'New agent' : `Settings of ${agent.name}`}>
      ${error && html`<div class="form-error" role="alert" tabindex="-1">
        ${error.details.length ? 'Some fields need a change (see below).' : error.message}
        ${leftover.length > 0 && error.details.length > 0 && html`<${ProblemList} problems=${leftover}/>`}</div>`}
      <${BasicsSection} isNew=${isNew} kind=${kind} name=${name} setName=${(value) => { setName(value); setResult(null); setDirty(true); }}
        agentId=${isNew ? newId : agentId} setAgentId=${setNewId} ...${shared}/>
      ${llm && html`
        <${PromptSection} ...${shared}/>
        <${ModelSection} ...${shared} providers=${refs.providers} credentials=${refs.credentials}/>
        <${TypeSection} ...${shared} agents=${refs.agents} selfId=${agentId}/>
        <${ToolsSection} ...${shared} credentials=${refs.credentials}/>
        <${KnowledgeSection} ...${shared}/>
        <${MemorySettingsSection} ...${shared}/>`}
      ${!llm && html`<p class="hint card">A ${kind} agent's steps are its bot's: edit them in <a href=${href('bots')}>Bots</a>.</p>`}
      <${IntegrationsSection} agentId=${agentId} ...${shared} credentials=${refs.credentials}
        savedIntegrations=${agent?.settings?.integrations}/>
      <${AccessSection} agentId=${agentId} ...${shared}/>
      <div class="agent-savebar">
        <button type="submit" class="primary" disabled=${busy}>${busy ? 'Saving…' : isNew ? 'Create agent' : 'Save'}</button>
        ${error && html`<span class="field-error">Not saved: ${error.details.length
          ? `${error.details.length} ${error.details.length === 1 ? 'problem' : 'problems'} (marked at their fields)` : error.message}</span>`}
        ${dirty && !error && html`<span class="hint">Unsaved changes</span>`}
        <${SaveResult} result=${result} agentId=${agentId} onRestarted=${() => { setResult(null); refreshStatus(); }}/>
      </div>
    </form>
    ${!isNew && llm && html`<${MemoryPanel} agentId=${agentId}/>`}
    <${JsonView} value=${isNew ? { ...body(), ...(newId.trim() ? { id: newId.trim() } : {}) } : body()}
      onSave=${send} error=${error} busy=${busy}/>
  </section>`;
}
