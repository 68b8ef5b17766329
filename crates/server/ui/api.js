// Calls to the gridsweep HTTP API. Failures are thrown as ApiFailure with
// the server's stable error code (or `network` when there was no answer).

export class ApiFailure extends Error {
  constructor(status, code, message, field, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
    this.details = details;
  }
}

const CSRF_KEY = 'gs_csrf';

/** The session's CSRF token (kept across tabs, like the session cookie). */
export function csrfToken() {
  return localStorage.getItem(CSRF_KEY) || '';
}

/** `method path`, with a JSON body, or a raw body when `raw` is given.
 * The session cookie travels by itself; writes carry the CSRF token. */
export async function api(method, path, body, { raw, contentType } = {}) {
  const init = { method, headers: { Accept: 'application/json' }, credentials: 'same-origin' };
  if (method !== 'GET' && csrfToken()) init.headers['X-CSRF-Token'] = csrfToken();
  if (raw !== undefined) {
    init.body = raw;
    if (contentType) init.headers['Content-Type'] = contentType;
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers['Content-Type'] = 'application/json';
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new ApiFailure(0, 'network', String(e && e.message ? e.message : e));
  }
  let data = null;
  const text = await res.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (res.status === 401 && !path.startsWith('/api/v1/auth/')) {
    window.dispatchEvent(new CustomEvent('gs-signed-out'));
  }
  if (!res.ok) {
    const err = (data && data.error) || {};
    if (err.code === 'password_change_required') {
      window.dispatchEvent(new CustomEvent('gs-password-change'));
    }
    throw new ApiFailure(res.status, err.code || `http_${res.status}`, err.message || res.statusText,
      err.field, err.details);
  }
  return data;
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body);

let current = null;

/** Signs in; keeps the CSRF token for later writes. */
export async function login(username, password) {
  const r = await api('POST', '/api/v1/auth/login', { username, password });
  if (r && r.csrf_token) localStorage.setItem(CSRF_KEY, r.csrf_token);
  current = null;
  return me();
}

/** Ends the session on the server and here. */
export async function logout() {
  try {
    await api('POST', '/api/v1/auth/logout', {});
  } finally {
    localStorage.removeItem(CSRF_KEY);
    current = null;
  }
}

/** Forgets the cached account (after a change to it) and reads it again. */
export async function refreshMe() {
  current = null;
  return me();
}

/** The signed-in account (cached), or null when signed out. Offline, the
 * last known account is returned so the sampler keeps working. */
export async function me() {
  if (current) return current;
  try {
    current = await api('GET', '/api/v1/auth/me');
    localStorage.setItem('gs_me', JSON.stringify(current));
    return current;
  } catch (e) {
    if (e.code === 'network') {
      const saved = localStorage.getItem('gs_me');
      return saved ? JSON.parse(saved) : null;
    }
    if (e.status === 401) {
      localStorage.removeItem('gs_me');
      return null;
    }
    throw e;
  }
}
