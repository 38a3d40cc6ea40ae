// Cytoscape and its edgehandles extension (drag to connect), loaded only by the bots area.
// edgehandles is published as a UMD script that reads lodash's memoize and throttle from the
// global `_` when it is loaded as a plain script: the two small functions below stand in for
// them (same contract for what edgehandles calls: memoize(fn, resolver), throttle(fn, wait)).
import cytoscape from '../../../vendor/cytoscape.esm.min.js';

const EDGEHANDLES = 'console/vendor/cytoscape-edgehandles.js';

function memoize(fn, resolver) {
  const cache = new Map();
  return function memoized(...args) {
    const key = resolver ? resolver.apply(this, args) : args[0];
    if (!cache.has(key)) cache.set(key, fn.apply(this, args));
    return cache.get(key);
  };
}

function throttle(fn, wait) {
  let last = 0;
  let timer = null;
  let pending = null;
  return function throttled(...args) {
    const now = Date.now();
    const run = () => { last = Date.now(); timer = null; fn.apply(this, pending); };
    pending = args;
    if (now - last >= wait) { clearTimeout(timer); run(); } else if (!timer) timer = setTimeout(run, wait - (now - last));
  };
}

// Cytoscape adds a <style> of its own (`position: relative` for its container), which the
// page's Content-Security-Policy refuses: bots.css has that rule, and an element with the id
// Cytoscape looks for tells it the stylesheet is there already.
const CYTOSCAPE_STYLESHEET_ID = '__________cytoscape_stylesheet';

function markStylesheet() {
  if (document.getElementById(CYTOSCAPE_STYLESHEET_ID)) return;
  const marker = document.createElement('meta');
  marker.id = CYTOSCAPE_STYLESHEET_ID;
  marker.name = 'cytoscape-stylesheet';
  marker.content = 'console/css/bots.css';
  document.head.append(marker);
}

let loading = null;

/** Cytoscape with edgehandles registered (loaded once). */
export function loadGraphLibrary() {
  markStylesheet();
  loading ||= new Promise((resolve, reject) => {
    if (window.cytoscapeEdgehandles) { resolve(); return; }
    window._ = window._ || { memoize, throttle };
    const script = document.createElement('script');
    script.src = EDGEHANDLES;
    script.onload = () => resolve();
    script.onerror = () => reject(new Error('The graph editor could not be loaded.'));
    document.head.append(script);
  }).then(() => {
    cytoscape.use(window.cytoscapeEdgehandles);
    return cytoscape;
  });
  return loading;
}
