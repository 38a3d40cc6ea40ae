// The visual constructor of one bot: a toolbar of named controls (Add step, Connect to…,
// Delete, Draw connections, Publish), the graph, a side panel (the selected step or
// connection, the bot's variables, its HTTP requests, the palette of presets and templates) and a test chat
// running the draft. Live: another editor's change reloads the graph and says what changed.
import { html, useCallback, useEffect, useRef, useState } from '../../lib/ui.js';
import { api } from '../../lib/api.js';
import { href } from '../../lib/router.js';
import { useMe } from '../../lib/session.js';
import { BOT_LEVEL, loadBot, sourceStepId } from './model.js';
import { Graph } from './graph.js';
import { BotLevelPanel, StepPanel } from './step-panel.js';
import { ConnectionPanel } from './connection-panel.js';
import { VariablesEditor } from './variables.js';
import { RequestsEditor } from './requests.js';
import { Palette } from './palette.js';
import { TestChat } from './test-chat.js';
import { useBotEvents } from './live.js';
import { describeChanges } from './changes.js';
import { errorText } from './errors.js';
import { Toolbar } from './toolbar.js';
import { PublishBar } from './publish.js';
import { StartGreetingNotice, hasBotLevelConnection } from './start-greeting.js';

const FUNNEL_REFRESH_MS = 5_000;
const PANELS = [['edit', 'Selection'], ['variables', 'Variables'], ['requests', 'HTTP requests'], ['palette', 'Palette']];

/** A name for the `by` of a live change: a member's e-mail, "an API key", "you (elsewhere)". */
function useEditorNames(me) {
  const members = useRef(null);
  return useCallback(async (by) => {
    if (!by) return 'Another editor';
    if (by === me.id) return 'You (in another window)';
    if (by.startsWith('key:')) return 'A program (API key)';
    members.current ||= api.get(`api/v1/orgs/${encodeURIComponent(me.org_id)}/members`).then((answer) => answer.items, () => []);
    return (await members.current).find((member) => member.id === by)?.email || 'Another editor';
  }, [me]);
}

export function BotEditor({ botId }) {
  const me = useMe();
  const editorName = useEditorNames(me);
  const [data, setData] = useState(null);
  const [loadError, setLoadError] = useState(null);
  const [selected, setSelected] = useState(null);
  const [panel, setPanel] = useState('edit');
  const [notice, setNotice] = useState(null);
  const [live, setLive] = useState(null);
  const [drawMode, setDrawMode] = useState(false);
  const current = useRef(null);
  const inFlight = useRef(0);
  const funnelTimer = useRef(null);
  useEffect(() => () => clearTimeout(funnelTimer.current), []);

  const reload = useCallback(async () => {
    const next = await loadBot(botId);
    current.current = next;
    setData(next);
    return next;
  }, [botId]);

  useEffect(() => { reload().catch(setLoadError); }, [reload]);

  /** Run an edit, then reload; errors go to `onError` (a form) or to the notice, `ok` is said
   * on success. Returns the edit's answer (true for none), or false. */
  const run = useCallback(async (work, options = {}) => {
    const { onError, ok } = typeof options === 'function' ? { onError: options } : options;
    inFlight.current += 1;
    setNotice(null);
    try {
      const answer = await work();
      await reload();
      if (ok) setNotice({ ok });
      return answer ?? true;
    } catch (error) {
      if (onError) onError(error); else setNotice({ error: errorText(error) });
      await reload().catch(() => {});
      return false;
    } finally { inFlight.current -= 1; }
  }, [reload]);

  useBotEvents(botId, async (event) => {
    if (event.type === 'subscribed') { setLive((old) => old || { connected: true }); return; }
    if (event.type === 'message') {
      // A real user's message moves the funnel: read it again, at most every few seconds.
      if (!event.test && !funnelTimer.current) {
        funnelTimer.current = setTimeout(() => { funnelTimer.current = null; reload().catch(() => {}); }, FUNNEL_REFRESH_MS);
      }
      return;
    }
    const known = current.current?.bot;
    // While an edit of ours is on its way, its own events are ours: that edit reloads anyway.
    const ours = !event.by || event.by === me.id;
    if (!known || (inFlight.current > 0 && ours)) return;
    if (event.change === 'draft' && event.draft_revision <= known.draft_revision) return;
    if (event.change === 'published' && event.version <= (known.published_version || 0)) return;
    const before = current.current;
    const [after, who] = await Promise.all([reload(), editorName(event.by)]);
    const what = event.change === 'published' ? `published version ${event.version}` : describeChanges(before, after);
    setLive({ connected: true, message: `${who} ${what}.`, at: new Date() });
  });

  const select = useCallback((next) => { setSelected(next); if (next) setPanel('edit'); }, []);

  const move = useCallback((stepId, position) => {
    run(() => api.patch(`api/v1/steps/${stepId}`, { position: { x: Math.round(position.x), y: Math.round(position.y) } }));
  }, [run]);

  const connect = useCallback((sourceId, targetId) => run(async () => {
    const botLevel = sourceId === BOT_LEVEL;
    const groups = current.current.groups.filter((g) => g.step_id === (botLevel ? null : sourceId) && g.search_type === 'message');
    const owner = botLevel ? { bot_id: botId } : { step_id: sourceId };
    const group = groups[0] || await api.post('api/v1/connection_groups', { ...owner, search_type: 'message', order: 0 });
    const made = await api.post('api/v1/connections', { group_id: group.id, next_step_id: targetId, rules: {}, priority: 0 });
    setSelected({ kind: 'connection', id: made.id });
    setPanel('edit');
    return made;
  }), [run]);

  if (loadError) {
    return html`<section class="bot-editor"><p class="form-error" role="alert">${loadError.status === 404
      ? 'No such bot in your organisation.' : `The bot could not be loaded: ${loadError.message}`}</p>
      <a href=${href('bots')}>Back to the bots</a></section>`;
  }
  if (!data) return html`<p class="loading" role="status">Loading the bot…</p>`;

  const step = selected?.kind === 'step' ? data.steps.find((s) => s.id === selected.id) : null;
  const connection = selected?.kind === 'connection' ? data.connections.find((c) => c.id === selected.id) : null;
  const selectedStepId = step?.id || (connection && (sourceStepId(data, connection) || BOT_LEVEL))
    || (selected?.kind === 'bot-level' ? BOT_LEVEL : null);

  let side;
  if (panel === 'variables') side = html`<${VariablesEditor} key=${`vars-${data.bot.updated_at}`} bot=${data.bot} run=${run}/>`;
  else if (panel === 'requests') side = html`<${RequestsEditor} data=${data} run=${run}/>`;
  else if (panel === 'palette') side = html`<${Palette} data=${data} selectedStepId=${step?.id} run=${run} onSelect=${select}/>`;
  else if (selected?.kind === 'bot-level') side = html`<${BotLevelPanel} data=${data} run=${run} onSelect=${select}/>`;
  else if (step) side = html`<${StepPanel} key=${`${step.id}-${step.updated_at}`} step=${step} data=${data} run=${run} onSelect=${select}/>`;
  else if (connection) side = html`<${ConnectionPanel} key=${`${connection.id}-${connection.updated_at}`} connection=${connection} data=${data} run=${run} onSelect=${select}/>`;
  else {
    side = html`<section class="side-panel" aria-labelledby="nothing-title"><h2 id="nothing-title">Nothing selected</h2>
      <p class="hint">${data.steps.length ? 'Select a step or a connection on the canvas or in “Step”.' : 'This bot has no steps yet: press “Add step”.'}</p></section>`;
  }

  return html`<section class="bot-editor" aria-labelledby="bot-title">
    <div class="editor-head">
      <a href=${href('bots')}>← Bots</a>
      <h1 id="bot-title">${data.bot.name}</h1>
      <${PublishBar} data=${data} run=${run} onNotice=${setNotice}/>
    </div>
    ${notice?.error && html`<p class="form-error" role="alert">${notice.error}</p>`}
    ${notice?.ok && html`<p class="ok" role="status">${notice.ok}</p>`}
    <p class="live-status" role="status" aria-live="polite">
      ${live?.message ? html`<strong>${live.message}</strong> <small class="hint">${live.at.toLocaleTimeString()}</small>`
        : live?.connected ? html`<span class="hint">Live: changes by others appear here.</span>` : ''}
    </p>
    <${StartGreetingNotice} data=${data} run=${run} onSelect=${select}/>
    <${Toolbar} data=${data} selected=${selected} selectedStepId=${selectedStepId} run=${run} onSelect=${select}
      onConnect=${connect} drawMode=${drawMode} onDrawMode=${setDrawMode}/>
    <div class="editor-body">
      <${Graph} data=${data} selected=${selected} onSelect=${select} onMove=${move} onConnect=${connect} drawMode=${drawMode}/>
      <div class="editor-side">
        <div class="panel-tabs" role="group" aria-label="Side panel">
          ${PANELS.map(([name, label]) => html`<button type="button" aria-pressed=${panel === name ? 'true' : 'false'}
            onClick=${() => setPanel(name)}>${label}</button>`)}
        </div>
        ${side}
      </div>
      <${TestChat} botId=${botId} greets=${hasBotLevelConnection(data)}/>
    </div>
  </section>`;
}
