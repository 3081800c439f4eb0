// The Lava dashboard: sign-in, the top navigation and the hash router.

import { api, clearToken, getToken, hideBanner, setToken, setUnauthorizedHandler, showError, showNotice } from './api.js';
import { h, replace } from './dom.js';
import { renderOverview } from './page-overview.js';
import { renderRun, renderRuns } from './page-runs.js';
import { renderJob, renderJobs } from './page-jobs.js';
import { renderBatch, renderBatches } from './page-batches.js';
import { renderDispatchers, renderQueues, renderState } from './page-system.js';

const SECTIONS = [
  ['overview', '#/', 'Overview'],
  ['runs', '#/runs', 'Runs'],
  ['jobs', '#/jobs', 'Jobs'],
  ['batches', '#/batches', 'Batches'],
  ['queues', '#/queues', 'Queues'],
  ['dispatchers', '#/dispatchers', 'Dispatchers'],
  ['state', '#/state', 'State'],
];

/** Routes: [section, pattern, render]. A pattern's group is the (URI-encoded) id. */
const ROUTES = [
  ['overview', /^\/?$/, renderOverview],
  ['runs', /^\/runs\/?$/, renderRuns],
  ['runs', /^\/runs\/(.+)$/, renderRun],
  ['jobs', /^\/jobs\/?$/, renderJobs],
  ['jobs', /^\/jobs\/(.+)$/, renderJob],
  ['batches', /^\/batches\/?$/, renderBatches],
  ['batches', /^\/batches\/(.+)$/, renderBatch],
  ['queues', /^\/queues\/?$/, renderQueues],
  ['dispatchers', /^\/dispatchers\/?$/, renderDispatchers],
  ['state', /^\/state\/?$/, renderState],
];

const main = document.getElementById('main');
let whoami = null; // {realm, role, auth} once signed in
let current = null; // the AbortController of the page shown
let flash = null; // a notice to show on the next page (e.g. a dispatch warning)

/** Stop the current page's requests and timers. */
function leavePage() {
  current?.abort();
  current = null;
}

/** A page context: the container, the user's role, and requests and timers that end when the page is left. */
function pageContext(query) {
  const controller = new AbortController();
  current = controller;
  const { signal } = controller;
  return {
    main,
    query,
    signal,
    whoami,
    canOperate: whoami.role === 'operator' || whoami.role === 'admin',
    api: (path, options = {}) => api(path, { ...options, signal }),
    /** Go to another page, optionally showing a notice there. */
    navigate(hash, notice) {
      flash = notice ?? null;
      location.hash = hash;
    },
    /**
     * Call fn now and then every ms while the page is shown; skipped while the browser tab is hidden.
     * Polling ends when fn returns false.
     */
    every(ms, fn) {
      const tick = async () => {
        if (signal.aborted) return;
        if (!document.hidden) {
          try {
            if ((await fn()) === false) return;
          } catch (err) {
            showError(err);
          }
        }
        if (!signal.aborted) setTimeout(tick, ms);
      };
      return tick();
    },
  };
}

function route() {
  leavePage();
  hideBanner();
  if (flash) showNotice(flash);
  flash = null;
  if (!whoami) return;
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path, search = ''] = raw.split('?');
  for (const [section, pattern, render] of ROUTES) {
    const m = pattern.exec(path);
    if (!m) continue;
    markNav(section);
    const ctx = pageContext(new URLSearchParams(search));
    replace(main);
    main.focus({ preventScroll: true });
    window.scrollTo(0, 0);
    let id = m[1];
    if (id !== undefined) {
      try {
        id = decodeURIComponent(id);
      } catch {
        // a malformed escape: use the id as written
      }
    }
    Promise.resolve(render(ctx, id)).catch(showError);
    return;
  }
  markNav(null);
  replace(
    main,
    h('section', { class: 'card' }, h('h1', null, 'Not found'), h('p', null, h('a', { href: '#/' }, 'Back to the overview'))),
  );
}

function markNav(section) {
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.dataset.section === section) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function renderHeader() {
  const nav = document.getElementById('nav');
  replace(
    nav,
    h(
      'ul',
      null,
      SECTIONS.map(([key, href, label]) =>
        h('li', null, h('a', { href, testid: `nav-${key}`, dataset: { section: key } }, label)),
      ),
    ),
  );
  nav.hidden = false;
  const who = document.getElementById('who');
  replace(
    who,
    h('span', { class: 'realm', title: 'Realm' }, whoami.realm),
    h('span', { class: `role role-${whoami.role}`, title: 'Your role' }, whoami.role),
    whoami.auth && getToken() ? h('button', { type: 'button', class: 'link', onclick: signOut }, 'Sign out') : null,
  );
  who.hidden = false;
}

function signOut() {
  clearToken();
  showLogin();
}

/** The sign-in form: a token made with `lava token create --role viewer|operator|admin`. */
function showLogin(message) {
  leavePage();
  whoami = null;
  document.getElementById('nav').hidden = true;
  document.getElementById('who').hidden = true;
  const input = h('input', {
    id: 'login-token',
    testid: 'login-token',
    type: 'password',
    required: true,
    autocomplete: 'off',
    spellcheck: 'false',
    'aria-describedby': 'login-help',
  });
  const form = h(
    'form',
    {
      class: 'card login',
      onsubmit: (e) => {
        e.preventDefault();
        void signIn(input.value.trim());
      },
    },
    h('h1', null, 'Sign in'),
    message ? h('p', { class: 'warn' }, message) : null,
    h('label', { for: 'login-token' }, 'Access token'),
    input,
    h(
      'p',
      { id: 'login-help', class: 'hint' },
      'Paste a token made with ',
      h('code', null, 'lava token create --role viewer|operator|admin'),
      '. It is kept in this browser tab only (session storage) and sent as a bearer token.',
    ),
    h('button', { type: 'submit', class: 'primary', testid: 'login-submit' }, 'Sign in'),
  );
  replace(main, form);
  document.title = 'Sign in · Lava';
  input.focus();
}

async function signIn(token) {
  if (!token) return;
  setToken(token);
  hideBanner();
  await start();
}

/** Ask who we are; show the app, or the sign-in form when the API wants a token. */
async function start() {
  try {
    whoami = await api('/api/whoami');
  } catch (err) {
    if (err.status === 401) return; // the unauthorized handler shows the form
    showError(err);
    replace(main, h('section', { class: 'card' }, h('h1', null, 'Cannot load the dashboard'), h('p', null, err.message)));
    return;
  }
  renderHeader();
  route();
}

setUnauthorizedHandler(() => {
  const hadToken = Boolean(getToken());
  clearToken();
  showLogin(hadToken ? 'That token was not accepted (wrong, expired or revoked). Paste another one.' : undefined);
});

// The skip link moves focus without touching the hash (the hash is the route).
document.getElementById('skip-link')?.addEventListener('click', (e) => {
  e.preventDefault();
  main.focus();
});
for (const button of document.querySelectorAll('[data-dismiss]')) {
  button.addEventListener('click', () => (button.parentElement.hidden = true));
}
window.addEventListener('hashchange', route);
void start();
