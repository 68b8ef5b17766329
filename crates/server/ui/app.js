// The shell: header, navigation, language switch and a hash router
// (`#/sampler`, `#/lab`, later `#/incident/12` …). A page is a module that
// exports `mount(root, params)` and may return a cleanup function. To add a
// page, add one line to PAGES and its title to the catalogue.

import { t, setLang, lang, onLangChange, applyDocumentLang } from './i18n.js';
import { h, replace } from './dom.js';
import { me, logout } from './api.js';

const PEOPLE = ['command', 'cdc', 'subdistrict', 'community', 'grid_worker'];

/** `path` is a pattern; `:name` segments become params. `nav` pages are
 * linked in the header for the `roles` that can use them (the server
 * decides what each role may do; this only keeps the menu short). */
export const PAGES = [
  { path: '', title: 'nav.home', load: () => import('./pages/home.js') },
  { path: 'dashboard', title: 'nav.dashboard', nav: true, roles: ['command', 'cdc'], desc: 'home.dashboard_desc', load: () => import('./pages/dashboard.js') },
  { path: 'grid', title: 'nav.grid', nav: true, roles: ['grid_worker', 'community', 'subdistrict'], desc: 'home.grid_desc', load: () => import('./pages/grid.js') },
  { path: 'sampler', title: 'nav.sampler', nav: true, roles: ['sampler', 'community', 'subdistrict'], desc: 'home.sampler_desc', load: () => import('./pages/sampler.js') },
  { path: 'lab', title: 'nav.lab', nav: true, roles: ['lab'], desc: 'home.lab_desc', load: () => import('./pages/lab.js') },
  { path: 'reports', title: 'nav.reports', nav: true, roles: PEOPLE, desc: 'home.reports_desc', load: () => import('./pages/reports.js') },
  { path: 'incident/:id', title: 'nav.incident', roles: PEOPLE, load: () => import('./pages/incident.js') },
  { path: 'report/:id', title: 'nav.report', roles: PEOPLE, load: () => import('./pages/report.js') },
  { path: 'login', title: 'nav.login', public: true, load: () => import('./pages/login.js') },
  { path: 'password', title: 'nav.password', load: () => import('./pages/password.js') },
];

/** The pages linked for `account` (all linked pages when unknown). */
export function pagesFor(account) {
  return PAGES.filter((p) => p.nav && (!account || !p.roles || p.roles.includes(account.role)));
}

function match(hash) {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  for (const page of PAGES) {
    const pat = page.path.split('/').filter(Boolean);
    if (pat.length !== parts.length) continue;
    const params = {};
    if (pat.every((p, i) => (p.startsWith(':') ? ((params[p.slice(1)] = decodeURIComponent(parts[i])), true) : p === parts[i]))) {
      return { page, params };
    }
  }
  return null;
}

const main = () => document.getElementById('main');
let signedIn = null;

async function onLogout() {
  await logout().catch(() => {});
  signedIn = null;
  location.hash = '#/login';
}
let cleanup = null;
let mountedKey = null;

function renderChrome(active) {
  document.getElementById('skip').textContent = t('app.skip');
  document.getElementById('brand-name').textContent = t('app.name');
  const nav = document.getElementById('nav');
  nav.setAttribute('aria-label', t('app.nav_label'));
  const account = signedIn
    ? [h('li', { class: 'account' }, h('span', { id: 'whoami', 'data-role': signedIn.role },
      t('login.signed_in_as', { name: signedIn.username }), h('span', { class: 'role' }, ` · ${t(`role.${signedIn.role}`)}`))),
      h('li', {}, h('a', { href: '#/password', id: 'password-link', class: 'account-link' }, t('nav.password'))),
      h('li', {}, h('button', { type: 'button', id: 'logout', onclick: onLogout }, t('login.sign_out')))]
    : [];
  replace(nav, h('ul', {}, (signedIn ? pagesFor(signedIn) : []).map((p) =>
    h('li', {}, h('a', {
      href: `#/${p.path}`,
      'aria-current': active === p ? 'page' : undefined,
    }, t(p.title)))), account));
  const btn = document.getElementById('lang');
  btn.textContent = t('app.lang_switch');
  btn.setAttribute('aria-label', t('app.lang_switch_label'));
  btn.lang = lang() === 'zh' ? 'en' : 'zh-CN';
}

async function route({ focus = true } = {}) {
  const m = match(location.hash);
  if (m && !m.page.public) {
    signedIn = await me().catch(() => null);
    if (!signedIn) {
      sessionStorage.setItem('gs_next', location.hash || '#/');
      location.hash = '#/login';
      return;
    }
    // A one-time password opens nothing but its own replacement.
    if (signedIn.must_change_password && m.page.path !== 'password') {
      location.hash = '#/password';
      return;
    }
  }
  renderChrome(m && m.page);
  if (cleanup) {
    try { cleanup(); } catch (e) { console.error(e); }
    cleanup = null;
  }
  const root = main();
  if (!m) {
    document.title = t('app.name');
    replace(root, h('h1', {}, t('app.not_found')));
    return;
  }
  document.title = `${t(m.page.title)} · ${t('app.name')}`;
  replace(root, h('p', { class: 'muted' }, t('app.loading')));
  const key = location.hash;
  mountedKey = key;
  try {
    const mod = await m.page.load();
    if (mountedKey !== key) return;
    root.replaceChildren();
    cleanup = (await mod.mount(root, m.params)) || null;
    if (focus) {
      const h1 = root.querySelector('h1');
      if (h1) {
        h1.tabIndex = -1;
        h1.focus({ preventScroll: true });
      }
    }
  } catch (e) {
    console.error(e);
    replace(root, h('p', { role: 'alert', class: 'msg msg-error' }, t('app.load_failed', { message: e.message })));
  }
}

applyDocumentLang();
document.getElementById('lang').addEventListener('click', () => setLang(lang() === 'zh' ? 'en' : 'zh'));
onLangChange(() => route({ focus: false }).then(() => document.getElementById('lang').focus()));
window.addEventListener('hashchange', () => route());
window.addEventListener('gs-password-change', () => {
  if (location.hash !== '#/password') location.hash = '#/password';
});
window.addEventListener('gs-signed-out', () => {
  if (location.hash !== '#/login') {
    sessionStorage.setItem('gs_next', location.hash || '#/');
    location.hash = '#/login';
  }
});
route({ focus: false });

// Lets the pages load with no network (see sw.js); the queue itself is in IndexedDB.
if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('/ui/sw.js', { scope: '/' }).catch((e) => console.warn('service worker', e));
}
