// Hash routing: `#/chat/demo` is the route ["chat", "demo"]. The server serves one page, so a
// reload or a shared link lands on the same view under any ROOT_PATH.
import { useEffect, useState } from './ui.js';

// A part that is not valid percent-encoding (a mistyped or cut link) is kept as it is: an
// error here would leave the page blank.
function decodePart(part) {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

export function currentRoute() {
  const path = location.hash.replace(/^#\/?/, '');
  const [pathname, search = ''] = path.split('?');
  return { parts: pathname.split('/').filter(Boolean).map(decodePart), query: new URLSearchParams(search) };
}

export function navigate(path, { replace = false } = {}) {
  const hash = `#/${path.replace(/^[#/]+/, '')}`;
  if (replace) history.replaceState(null, '', hash);
  else location.hash = hash;
  if (replace) window.dispatchEvent(new HashChangeEvent('hashchange'));
}

/** The route, re-rendered when the hash changes. */
export function useRoute() {
  const [route, setRoute] = useState(currentRoute);
  useEffect(() => {
    const changed = () => setRoute(currentRoute());
    window.addEventListener('hashchange', changed);
    return () => window.removeEventListener('hashchange', changed);
  }, []);
  return route;
}

export function href(path) {
  return `#/${path.replace(/^[#/]+/, '')}`;
}
