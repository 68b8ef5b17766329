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

/** `method path`, with a JSON body, or a raw body when `raw` is given. */
export async function api(method, path, body, { raw, contentType } = {}) {
  const init = { method, headers: { Accept: 'application/json' } };
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
  if (!res.ok) {
    const err = (data && data.error) || {};
    throw new ApiFailure(res.status, err.code || `http_${res.status}`, err.message || res.statusText,
      err.field, err.details);
  }
  return data;
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body);
