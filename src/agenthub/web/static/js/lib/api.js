// The REST API and the WebSocket addresses, relative to the page's <base> (so the console works
// under a reverse proxy's ROOT_PATH). Keeps the login (access and refresh tokens) in
// localStorage, refreshes the access token once when it has expired, and turns every error
// answer into an ApiError carrying the server's {code, message, details}.

const TOKENS_KEY = 'agenthub.tokens';
const EARLY_REFRESH_MS = 30_000;

export class ApiError extends Error {
  constructor(status, error = {}) {
    super(error.message || `The server answered ${status}`);
    this.status = status;
    this.code = error.code || 'error';
    this.details = Array.isArray(error.details) ? error.details : [];
  }

  /** {field: problem} of a 422, the field named by its last dotted part too ("body.name" -> "name"). */
  get fields() {
    const out = {};
    for (const { field, problem } of this.details) {
      if (!field) continue;
      out[field] = problem;
      const short = String(field).replace(/^body\./, '');
      if (!(short in out)) out[short] = problem;
    }
    return out;
  }
}

function readTokens() {
  try { return JSON.parse(localStorage.getItem(TOKENS_KEY) || 'null'); } catch { return null; }
}

let tokens = readTokens();
const listeners = new Set();

export const login = {
  get loggedIn() { return Boolean(tokens?.access_token); },
  /** Keep a token pair from /auth/login, /auth/register or /auth/refresh. */
  keep(pair) {
    tokens = { ...pair, expires_at: Date.now() + (pair.expires_in || 0) * 1000 };
    localStorage.setItem(TOKENS_KEY, JSON.stringify(tokens));
    listeners.forEach((fn) => fn(true));
  },
  forget() {
    tokens = null;
    localStorage.removeItem(TOKENS_KEY);
    listeners.forEach((fn) => fn(false));
  },
  /** Call fn(loggedIn) whenever the login changes (here or in another tab); returns the unsubscriber. */
  subscribe(fn) { listeners.add(fn); return () => listeners.delete(fn); },
};

window.addEventListener('storage', (event) => {
  if (event.key !== TOKENS_KEY) return;
  tokens = readTokens();
  listeners.forEach((fn) => fn(Boolean(tokens)));
});

export function url(path, query) {
  const address = new URL(path.replace(/^\//, ''), document.baseURI);
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== '') address.searchParams.set(key, value);
  }
  return address;
}

let refreshing = null;

async function refresh() {
  if (!tokens?.refresh_token) return false;
  refreshing ||= (async () => {
    try {
      const answer = await fetch(url('api/v1/auth/refresh'), {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refresh_token: tokens.refresh_token }),
      });
      if (!answer.ok) { login.forget(); return false; }
      login.keep(await answer.json());
      return true;
    } catch { return false; } finally { setTimeout(() => { refreshing = null; }); }
  })();
  return refreshing;
}

/** A valid access token (refreshed first when it is about to expire), or null when logged out. */
export async function accessToken() {
  if (tokens && tokens.expires_at && tokens.expires_at - Date.now() < EARLY_REFRESH_MS) await refresh();
  return tokens?.access_token || null;
}

async function errorOf(answer) {
  try {
    const body = await answer.json();
    return new ApiError(answer.status, body.error || { message: body.detail });
  } catch {
    return new ApiError(answer.status, { message: `The server answered ${answer.status} ${answer.statusText}` });
  }
}

/**
 * One request. `body`: an object (sent as JSON), FormData or a Blob; `query`: search
 * parameters; `raw`: return the Response (for downloads and streams). Throws ApiError.
 */
export async function request(method, path, { body, query, raw = false, signal, anonymous = false } = {}) {
  const send = async () => {
    const headers = {};
    const token = anonymous ? null : await accessToken();
    if (token) headers.authorization = `Bearer ${token}`;
    let payload = body;
    if (body !== undefined && !(body instanceof FormData) && !(body instanceof Blob)) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    return fetch(url(path, query), { method, headers, body: payload, signal });
  };
  let answer;
  try {
    answer = await send();
    if (answer.status === 401 && !anonymous && tokens?.refresh_token && await refresh()) answer = await send();
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new ApiError(0, { code: 'unreachable', message: 'AgentHub cannot be reached: check the connection.' });
  }
  if (answer.status === 401 && !anonymous && tokens) login.forget();
  if (!answer.ok) throw await errorOf(answer);
  if (raw) return answer;
  if (answer.status === 204) return null;
  const type = answer.headers.get('content-type') || '';
  return type.includes('json') ? answer.json() : answer.text();
}

export const api = {
  get: (path, options) => request('GET', path, options),
  post: (path, body, options) => request('POST', path, { ...options, body }),
  put: (path, body, options) => request('PUT', path, { ...options, body }),
  patch: (path, body, options) => request('PATCH', path, { ...options, body }),
  del: (path, options) => request('DELETE', path, options),
};

/** A WebSocket address (ws: or wss: as the page) with the access token: `await wsUrl('ws/agents/demo')`. */
export async function wsUrl(path, query = {}) {
  const token = await accessToken();
  const address = url(path, { ...query, token });
  address.protocol = address.protocol === 'https:' ? 'wss:' : 'ws:';
  return address.toString();
}
