// Polling while the page is visible: `tick` now, then every `intervalMs` (none while the tab is
// hidden, one at once when it shows again). `intervalMs` null: no polling.
import { useEffect, useRef } from '../../lib/ui.js';

export function usePolling(tick, intervalMs, deps) {
  const latest = useRef(tick);
  latest.current = tick;
  useEffect(() => {
    if (!intervalMs) return undefined;
    let timer = null;
    let stopped = false;
    const run = async () => {
      clearTimeout(timer);
      timer = null;
      if (document.visibilityState === 'visible') {
        try { await latest.current(); } catch { /* the next tick tries again */ }
      }
      if (!stopped) timer = setTimeout(run, intervalMs);
    };
    const shown = () => { if (document.visibilityState === 'visible' && !stopped) run(); };
    run();
    document.addEventListener('visibilitychange', shown);
    return () => {
      stopped = true;
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', shown);
    };
  }, [intervalMs, ...deps]);
}
