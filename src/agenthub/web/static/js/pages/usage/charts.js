// Bar charts drawn as <svg> from data, no chart library: columns by day, horizontal bars by
// agent or model. Each is an image with a name (role="img", aria-label and <title>) that states
// what it shows and the total; the figures themselves are also in a table next to it.
import { html, useEffect, useRef, useState } from '../../lib/ui.js';

const FONT = 12;

/** [ref, width]: the pixel width of the element ref is put on, kept up to date. */
function useWidth(fallback = 600) {
  const ref = useRef(null);
  const [width, setWidth] = useState(fallback);
  useEffect(() => {
    const element = ref.current;
    if (!element || typeof ResizeObserver === 'undefined') return undefined;
    const observer = new ResizeObserver(([entry]) => setWidth(Math.max(220, Math.floor(entry.contentRect.width))));
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  return [ref, width];
}

function total(row) {
  return row.parts.reduce((sum, part) => sum + part.value, 0);
}

function shorten(text, chars) {
  return text.length > chars ? `${text.slice(0, Math.max(1, chars - 1))}…` : text;
}

function barTitle(row, format) {
  const parts = row.parts.length > 1 ? ` (${row.parts.map((p) => `${p.name} ${format(p.value)}`).join(', ')})` : '';
  return `${row.label}: ${format(total(row))}${parts}`;
}

/** The stacked pieces of one bar, from `start` along the axis the `place` function maps. */
function segments(row, scale, place) {
  let offset = 0;
  return row.parts.map((part) => {
    const length = part.value * scale;
    const shape = place(offset, length);
    offset += length;
    return length > 0 ? html`<rect class=${`bar bar-${part.key}`} ...${shape}/>` : null;
  });
}

function Legend({ series }) {
  if (series.length < 2) return null;
  return html`<ul class="chart-legend">${series.map((s) => html`<li>
    <span class=${`swatch bar-${s.key}`} aria-hidden="true"></span>${s.name}</li>`)}</ul>`;
}

function Frame({ label, children, chartRef, height, width }) {
  return html`<div class="chart" ref=${chartRef}>
    <svg role="img" aria-label=${label} width=${width} height=${height} viewBox=${`0 0 ${width} ${height}`}>
      <title>${label}</title>
      ${children}
    </svg>
  </div>`;
}

/**
 * Columns, one per row (days), stacked by part. rows: [{label, parts: [{key, name, value}]}];
 * series: [{key, name}] for the legend; format: a value as text; label: the image's name.
 */
export function ColumnChart({ rows, series, format, label }) {
  const [ref, width] = useWidth();
  const height = 220;
  const left = 64; const right = 8; const top = 10; const bottom = 28;
  const plotWidth = width - left - right; const plotHeight = height - top - bottom;
  const max = Math.max(0, ...rows.map(total));
  const scale = max > 0 ? plotHeight / max : 0;
  const step = rows.length ? plotWidth / rows.length : plotWidth;
  const barWidth = Math.max(2, Math.min(40, step * 0.7));
  const every = Math.max(1, Math.ceil((rows.length * 64) / plotWidth));
  const ticks = max > 0 ? [0, max / 2, max] : [0];
  return html`<${Frame} label=${label} chartRef=${ref} width=${width} height=${height}>
    ${ticks.map((tick) => {
      const y = top + plotHeight - tick * scale;
      return html`<g class="tick"><line x1=${left} x2=${width - right} y1=${y} y2=${y}/>
        <text x=${left - 6} y=${y + FONT / 3} text-anchor="end" font-size=${FONT}>${format(tick)}</text></g>`;
    })}
    ${rows.map((row, index) => {
      const x = left + index * step + (step - barWidth) / 2;
      return html`<g class="column">
        <title>${barTitle(row, format)}</title>
        ${segments(row, scale, (offset, length) => ({ x, width: barWidth, y: top + plotHeight - offset - length, height: length }))}
        ${index % every === 0 && html`<text class="axis-label" x=${x + barWidth / 2} y=${height - 8} text-anchor="middle"
          font-size=${FONT}>${row.short || row.label}</text>`}
      </g>`;
    })}
  </${Frame}>
  <${Legend} series=${series}/>`;
}

/** Horizontal bars, one per row (agents, models), the value written at the end of each. */
export function BarChart({ rows, series, format, label }) {
  const [ref, width] = useWidth();
  const rowHeight = 28;
  const labelWidth = Math.min(170, Math.floor(width * 0.32));
  const valueWidth = 84;
  const top = 4;
  const height = top * 2 + Math.max(1, rows.length) * rowHeight;
  const plotWidth = Math.max(20, width - labelWidth - valueWidth - 8);
  const max = Math.max(0, ...rows.map(total));
  const scale = max > 0 ? plotWidth / max : 0;
  const chars = Math.max(4, Math.floor(labelWidth / 7.2));
  return html`<${Frame} label=${label} chartRef=${ref} width=${width} height=${height}>
    ${rows.map((row, index) => {
      const y = top + index * rowHeight;
      const barHeight = rowHeight - 10;
      const end = labelWidth + 4 + total(row) * scale;
      return html`<g class="row">
        <title>${barTitle(row, format)}</title>
        <text class="axis-label" x=${labelWidth - 4} y=${y + rowHeight / 2 + FONT / 3} text-anchor="end" font-size=${FONT}>${shorten(row.label, chars)}</text>
        ${segments(row, scale, (offset, length) => ({ x: labelWidth + 4 + offset, width: length, y: y + 5, height: barHeight }))}
        <text x=${end + 6} y=${y + rowHeight / 2 + FONT / 3} font-size=${FONT}>${format(total(row))}</text>
      </g>`;
    })}
  </${Frame}>
  <${Legend} series=${series}/>`;
}
