// Talking to the Lava API: the bearer token, JSON calls, errors, and the error banner.

const TOKEN_KEY = 'lava-token';

export const getToken = () => sessionStorage.getItem(TOKEN_KEY);
export const setToken = (token) => sessionStorage.setItem(TOKEN_KEY, token);
export const clearToken = () => sessionStorage.removeItem(TOKEN_KEY);

/** An error answered by the API ({error: {code, message, field?}}) or a network failure. */
export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

/** Called when the API answers 401: the app shows the sign-in form. */
let onUnauthorized = () => {};
export const setUnauthorizedHandler = (fn) => (onUnauthorized = fn);

function headers(extra = {}) {
  const h = { Accept: 'application/json', ...extra };
  const token = getToken();
  if (token) h.Authorization = `Bearer ${token}`;
  return h;
}

async function errorFrom(res) {
  let body = null;
  try {
    body = await res.json();
  } catch {
    // not JSON: fall back to the HTTP status
  }
  const e = body?.error;
  return new ApiError(res.status, e?.code ?? `HTTP_${res.status}`, e?.message ?? (res.statusText || 'Request failed'), e?.field);
}

/** fetch, turning network failures and non-2xx answers into ApiError. */
export async function request(path, { method = 'GET', body, signal, accept } = {}) {
  const init = { method, signal, headers: headers(body === undefined ? {} : { 'Content-Type': 'application/json' }) };
  if (accept) init.headers.Accept = accept;
  if (body !== undefined) init.body = JSON.stringify(body);
  let res;
  try {
    res = await fetch(path, init);
  } catch (err) {
    if (err?.name === 'AbortError') throw err;
    throw new ApiError(0, 'NETWORK', 'Cannot reach the Lava server. Is `lava serve` running?');
  }
  if (res.status === 401) {
    const err = await errorFrom(res);
    onUnauthorized(err);
    throw err;
  }
  if (!res.ok) throw await errorFrom(res);
  return res;
}

/** A JSON API call. */
export async function api(path, options) {
  const res = await request(path, options);
  return res.json();
}

/** Build a query string, leaving out empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const text = q.toString();
  return text ? `?${text}` : '';
}

// --- The banners at the top of the page: API errors (role=alert) and notices (role=status). ---

function show(id, message) {
  const el = document.getElementById(id);
  if (!el) return;
  el.querySelector('.banner-text').textContent = message;
  el.hidden = false;
}

/** Show an error in the error banner. Aborted requests and sign-in prompts are not errors to show. */
export function showError(err) {
  if (err?.name === 'AbortError') return;
  if (err instanceof ApiError && err.status === 401) return;
  if (err instanceof ApiError) show('error-banner', `${err.code}: ${err.message}${err.field ? ` (field: ${err.field})` : ''}`);
  else show('error-banner', String(err?.message ?? err));
}

/** Show a notice (not an error), e.g. a dispatch warning. */
export const showNotice = (message) => show('notice-banner', message);

/** Hide both banners (on page changes). */
export function hideBanner() {
  for (const id of ['error-banner', 'notice-banner']) {
    const el = document.getElementById(id);
    if (el) el.hidden = true;
  }
}
