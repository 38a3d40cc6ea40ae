// The named controls that do what the canvas does by dragging: Add step, pick a step, Connect
// to… (from the selected step), Delete (the selection), and the switch of drag-to-connect.
import { html, useId, useState } from '../../lib/ui.js';
import { api } from '../../lib/api.js';
import { BOT_LEVEL, stepLabel } from './model.js';
import { explainStepInUse } from './errors.js';

// Far enough apart for the label of the edge between them (graph.js, EDGE_LABEL_WIDTH).
const SPACING = { x: 380, y: 0 };

function newPosition(data, fromId) {
  const placed = data.steps.map((s) => s.position).filter((p) => p && Number.isFinite(p.x) && Number.isFinite(p.y));
  const from = data.steps.find((s) => s.id === fromId)?.position;
  if (from && Number.isFinite(from.x)) {
    let y = from.y;
    while (placed.some((p) => Math.abs(p.x - (from.x + SPACING.x)) < 200 && Math.abs(p.y - y) < 120)) y += 150;
    return { x: from.x + SPACING.x, y };
  }
  if (placed.length === 0) return { x: 0, y: 0 };
  return { x: Math.max(...placed.map((p) => p.x)) + SPACING.x, y: 0 };
}

function pick(value) {
  if (!value) return null;
  return { kind: value === BOT_LEVEL ? 'bot-level' : 'step', id: value };
}

export function Toolbar({ data, selected, selectedStepId, run, onSelect, onConnect, drawMode, onDrawMode }) {
  const id = useId();
  const [target, setTarget] = useState('');
  const addStep = () => run(async () => {
    const step = await api.post('api/v1/steps', {
      bot_id: data.bot.id, name: `Step ${data.steps.length + 1}`, position: newPosition(data, selectedStepId),
    });
    onSelect({ kind: 'step', id: step.id });
    return step;
  });
  const remove = () => {
    if (!selected) return;
    if (selected.kind === 'bot-level') return;
    if (selected.kind === 'step') {
      run(async () => {
        await api.del(`api/v1/steps/${selected.id}`).catch((error) => { throw explainStepInUse(error, data, selected.id); });
        onSelect(null);
      });
    } else {
      run(async () => { await api.del(`api/v1/connections/${selected.id}`); onSelect(pick(selectedStepId)); });
    }
  };
  const connect = async (event) => {
    event.preventDefault();
    if (!selectedStepId || !target) return;
    await onConnect(selectedStepId, target);
    setTarget('');
  };
  const source = selectedStepId === BOT_LEVEL ? { name: 'any step (bot level)' } : data.steps.find((s) => s.id === selectedStepId);
  return html`<div class="editor-toolbar" role="toolbar" aria-label="Constructor">
    <button type="button" class="primary" onClick=${addStep}>Add step</button>
    <span class="toolbar-field">
      <label for=${`${id}-step`}>Step</label>
      <select id=${`${id}-step`} value=${selected?.kind === 'step' || selected?.kind === 'bot-level' ? selected.id : ''}
        onChange=${(e) => onSelect(pick(e.currentTarget.value))}>
        <option value="">(none selected)</option>
        <option value=${BOT_LEVEL}>Any step (bot level)</option>
        ${data.steps.map((s) => html`<option value=${s.id}>${stepLabel(s)}${s.id === data.bot.first_step_id ? ' (first)' : ''}</option>`)}
      </select>
    </span>
    <form class="toolbar-field" onSubmit=${connect}>
      <label for=${`${id}-target`}>Connect to…</label>
      <select id=${`${id}-target`} value=${target} disabled=${!source} onChange=${(e) => setTarget(e.currentTarget.value)}
        title=${source ? `A connection from “${stepLabel(source)}”` : 'Select a step first'}>
        <option value="">${source ? '(choose the next step)' : '(select a step first)'}</option>
        ${data.steps.map((s) => html`<option value=${s.id}>${stepLabel(s)}</option>`)}
      </select>
      <button type="submit" disabled=${!source || !target}>Connect</button>
    </form>
    <button type="button" class="danger" onClick=${remove} disabled=${!selected || selected.kind === 'bot-level'}
      aria-label=${selected ? `Delete the selected ${selected.kind}` : 'Delete (select a step or connection first)'}>Delete</button>
    <button type="button" aria-pressed=${drawMode ? 'true' : 'false'} onClick=${() => onDrawMode(!drawMode)}
      title="Drag from a step to another to connect them">Draw connections</button>
  </div>`;
}
