// The canvas: steps as nodes, connections as edges (Cytoscape). Pan and zoom with the mouse or
// the buttons, drag a step to place it (its position is saved), and in "Draw connections"
// mode drag from one step to another to connect them (edgehandles). Every drag has a named
// control elsewhere in the editor (Add step, Connect to…, the step list).
import { html, useEffect, useRef, useState } from '../../lib/ui.js';
import { loadGraphLibrary } from './graph-library.js';
import { BOT_LEVEL, connectionLabel, sourceStepId, stepLabel } from './model.js';

// Room between steps for an edge's label (EDGE_LABEL_WIDTH) and its arrow.
const EDGE_LABEL_WIDTH = 130;
const GRID = { x: 380, y: 200, columns: 4 };
const BOT_LEVEL_GAP = 360;
const TREE_SPACING = 1.7;
const ZOOM_STEP = 1.25;
const MAX_FIT_ZOOM = 1.2;
const MIN_OPENING_ZOOM = 0.8;
/** Opened, a large bot is shown from its first step at a zoom its labels can be read at (Fit shows all). */

const STYLE = [
  { selector: 'node', style: {
    shape: 'round-rectangle', width: 180, height: 70, 'background-color': '#ffffff',
    'border-width': 2, 'border-color': '#9aa4b2', label: 'data(label)', 'text-wrap': 'wrap',
    'text-max-width': 160, 'text-valign': 'center', 'font-size': 14, color: '#1b1f24',
  } },
  { selector: 'node.first', style: { 'border-color': '#067647', 'border-width': 4 } },
  { selector: 'node.proxy', style: { 'border-style': 'dashed' } },
  { selector: 'node.bot-level', style: { shape: 'ellipse', width: 120, 'background-color': '#eef2f6' } },
  { selector: 'node:selected', style: { 'border-color': '#2457c5', 'border-width': 4, 'background-color': '#e8eefc' } },
  { selector: 'edge', style: {
    width: 2, 'line-color': '#5a6270', 'target-arrow-color': '#5a6270', 'target-arrow-shape': 'triangle',
    'curve-style': 'bezier', label: 'data(label)', 'font-size': 12, color: '#1b1f24', 'text-rotation': 'none',
    // A label is a small card over its edge, wrapped to a few lines, never wider than the gap
    // between two steps (long rule summaries are cut to 60 characters in the model).
    'text-wrap': 'wrap', 'text-max-width': EDGE_LABEL_WIDTH, 'text-justification': 'center',
    'text-background-color': '#ffffff', 'text-background-opacity': 0.95, 'text-background-padding': 3,
    'text-background-shape': 'round-rectangle', 'text-border-width': 1, 'text-border-color': '#d0d5dd', 'text-border-opacity': 1,
  } },
  { selector: 'edge:loop', style: { 'loop-direction': '-45deg', 'loop-sweep': '-50deg', 'control-point-step-size': 90 } },
  { selector: 'edge.emitter', style: { 'line-style': 'dashed', 'line-color': '#93370d', 'target-arrow-color': '#93370d' } },
  { selector: 'edge:selected', style: { 'line-color': '#2457c5', 'target-arrow-color': '#2457c5', width: 4 } },
  { selector: '.eh-handle', style: { 'background-color': '#2457c5', width: 12, height: 12, shape: 'ellipse' } },
  { selector: '.eh-preview, .eh-ghost-edge', style: {
    'line-color': '#2457c5', 'target-arrow-color': '#2457c5', 'line-style': 'dashed',
  } },
];


function nodeLabel(step, data) {
  const marks = [];
  if (step.id === data.bot.first_step_id) marks.push('▶ first');
  if (step.template_instance) marks.push('template');
  else if (step.is_proxy) marks.push('proxy');
  const funnel = data.funnel[step.id];
  const lines = [stepLabel(step)];
  if (marks.length) lines.push(marks.join(' · '));
  if (funnel) lines.push(`entered ${funnel.entered} · moved on ${funnel.moved_on}`);
  return lines.join('\n');
}

function isPlaced(step) {
  return Boolean(step.position && Number.isFinite(step.position.x) && Number.isFinite(step.position.y));
}

/** Cytoscape elements of the bot: steps placed where saved (else on a grid). */
export function elementsOf(data) {
  const nodes = data.steps.map((step, index) => ({
    group: 'nodes',
    data: { id: step.id, label: nodeLabel(step, data), placed: isPlaced(step) },
    position: isPlaced(step)
      ? { x: step.position.x, y: step.position.y }
      : { x: (index % GRID.columns) * GRID.x, y: Math.floor(index / GRID.columns) * GRID.y },
    classes: [step.id === data.bot.first_step_id && 'first', (step.is_proxy || step.template_instance) && 'proxy']
      .filter(Boolean).join(' '),
  }));
  const edges = [];
  const botLevel = data.groups.some((group) => !group.step_id);
  for (const connection of data.connections) {
    if (!connection.next_step_id) continue;
    let source = sourceStepId(data, connection);
    if (!source) source = BOT_LEVEL;
    edges.push({ group: 'edges', data: { id: connection.id, source, target: connection.next_step_id, label: connectionLabel(connection) } });
  }
  for (const step of data.steps) {
    if (!step.emitter?.next_step_id) continue;
    edges.push({ group: 'edges', classes: 'emitter', data: {
      id: `emitter:${step.id}`, source: step.id, target: step.emitter.next_step_id, step: step.id,
      label: `after ${step.emitter.delay_seconds} s (delayed)`,
    } });
  }
  if (botLevel) {
    nodes.push({ group: 'nodes', data: { id: BOT_LEVEL, label: 'Any step\n(bot level)' }, position: botLevelPosition(nodes, data), classes: 'bot-level' });
  }
  return [...nodes, ...edges];
}

/** Left of every step, level with the first one: its edges get room for their labels. */
function botLevelPosition(nodes, data) {
  if (nodes.length === 0) return { x: 0, y: 0 };
  const first = nodes.find((node) => node.data.id === data.bot.first_step_id) || nodes[0];
  return { x: Math.min(...nodes.map((node) => node.position.x)) - BOT_LEVEL_GAP, y: first.position.y };
}

function sync(cy, elements) {
  const added = [];
  const wanted = new Map(elements.map((element) => [element.data.id, element]));
  cy.batch(() => {
    cy.elements().forEach((element) => {
      const next = wanted.get(element.id());
      const sameEnds = !next || element.isNode() || (element.data('source') === next.data.source && element.data('target') === next.data.target);
      if (!next || !sameEnds) element.remove();
    });
    for (const element of elements) {
      const existing = cy.getElementById(element.data.id);
      if (existing.nonempty()) {
        existing.data(element.data);
        existing.classes(element.classes || '');
        // A step never placed stays where the canvas put it (the first layout, a drag not saved yet).
        if (element.group === 'nodes' && element.data.placed && !existing.grabbed()) existing.position(element.position);
      } else {
        added.push(cy.add(element));
      }
    }
  });
  const extent = cy.extent();
  const outside = added.some((element) => {
    if (!element.isNode()) return false;
    const box = element.boundingBox();
    return box.x1 < extent.x1 || box.x2 > extent.x2 || box.y1 < extent.y1 || box.y2 > extent.y2;
  });
  if (outside) fitAll(cy);
}

/** Show every step, never zoomed in past MAX_FIT_ZOOM (one step would fill the canvas). */
function fitAll(cy) {
  if (cy.nodes().empty()) return;
  cy.fit(undefined, 40);
  if (cy.zoom() > MAX_FIT_ZOOM) { cy.zoom(MAX_FIT_ZOOM); cy.center(); }
}

export function Graph({ data, selected, onSelect, onMove, onConnect, drawMode }) {
  const container = useRef(null);
  const cyRef = useRef(null);
  const handles = useRef(null);
  const callbacks = useRef({});
  const [problem, setProblem] = useState(null);
  const [ready, setReady] = useState(false);
  callbacks.current = { onSelect, onMove, onConnect };

  useEffect(() => {
    let cy = null;
    let alive = true;
    loadGraphLibrary().then((cytoscape) => {
      if (!alive) return;
      cy = cytoscape({
        container: container.current, elements: elementsOf(data), style: STYLE, layout: { name: 'preset' },
        minZoom: 0.2, maxZoom: 3, boxSelectionEnabled: false,
      });
      cyRef.current = cy;
      if (data.steps.length > 1 && !data.steps.some(isPlaced)) {
        // Never placed (an imported bot): a tree from the first step, until steps are dragged.
        const roots = data.bot.first_step_id ? cy.getElementById(data.bot.first_step_id) : undefined;
        cy.layout({ name: 'breadthfirst', directed: true, roots, spacingFactor: TREE_SPACING, fit: false, animate: false }).run();
      }
      fitAll(cy);
      if (cy.zoom() < MIN_OPENING_ZOOM) {
        cy.zoom(MIN_OPENING_ZOOM);
        const first = data.bot.first_step_id ? cy.getElementById(data.bot.first_step_id) : cy.nodes();
        cy.center(first.nonempty() ? first : cy.nodes());
      }
      cy.on('tap', 'node', (event) => {
        const id = event.target.id();
        callbacks.current.onSelect({ kind: id === BOT_LEVEL ? 'bot-level' : 'step', id });
      });
      cy.on('tap', 'edge', (event) => {
        const edge = event.target;
        if (edge.hasClass('eh-ghost-edge') || edge.hasClass('eh-preview')) return;
        if (edge.hasClass('emitter')) callbacks.current.onSelect({ kind: 'step', id: edge.data('step') });
        else callbacks.current.onSelect({ kind: 'connection', id: edge.id() });
      });
      cy.on('tap', (event) => { if (event.target === cy) callbacks.current.onSelect(null); });
      cy.on('dragfree', 'node', (event) => {
        const node = event.target;
        if (node.id() !== BOT_LEVEL) callbacks.current.onMove(node.id(), { ...node.position() });
      });
      handles.current = cy.edgehandles({
        canConnect: (source, target) => target.id() !== BOT_LEVEL && !target.hasClass('eh-ghost'),
        edgeParams: () => ({}),
        hoverDelay: 100,
        snap: true,
      });
      cy.on('ehcomplete', (event, source, target, added) => {
        added.remove();
        callbacks.current.onConnect(source.id(), target.id());
      });
      cy.container().setAttribute('data-ready', 'true');
      setReady(true);
    }, (error) => alive && setProblem(error.message));
    return () => { alive = false; handles.current?.destroy?.(); cy?.destroy(); cyRef.current = null; };
  }, []);

  useEffect(() => { if (ready) sync(cyRef.current, elementsOf(data)); }, [data, ready]);

  useEffect(() => {
    const cy = cyRef.current;
    if (!cy) return;
    cy.$(':selected').unselect();
    if (selected) cy.getElementById(selected.id).select();
  }, [selected, data, ready]);

  useEffect(() => {
    if (!ready) return;
    if (drawMode) handles.current.enableDrawMode();
    else handles.current.disableDrawMode();
  }, [drawMode, ready]);

  const zoom = (factor) => {
    const cy = cyRef.current;
    if (!cy) return;
    cy.zoom({ level: cy.zoom() * factor, renderedPosition: { x: cy.width() / 2, y: cy.height() / 2 } });
  };
  const fit = () => cyRef.current && fitAll(cyRef.current);

  return html`<section class="bot-graph" aria-label="Graph of the bot's steps">
    <div class="graph-zoom" role="group" aria-label="Zoom">
      <button type="button" onClick=${() => zoom(ZOOM_STEP)} aria-label="Zoom in">+</button>
      <button type="button" onClick=${() => zoom(1 / ZOOM_STEP)} aria-label="Zoom out">−</button>
      <button type="button" onClick=${fit}>Fit</button>
    </div>
    ${problem && html`<p class="form-error" role="alert">${problem}</p>`}
    <div class="graph-canvas" ref=${container} data-testid="bot-canvas"></div>
  </section>`;
}
