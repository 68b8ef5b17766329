// The shell: header, navigation, language switch and a hash router
// (`#/sampler`, `#/lab`, later `#/incident/12` …). A page is a module that
// exports `mount(root, params)` and may return a cleanup function. To add a
// page, add one line to PAGES and its title to the catalogue.

import { t, setLang, lang, onLangChange, applyDocumentLang } from './i18n.js';
import { h, replace } from './dom.js';
import { me, logout } from './api.js';

/** `path` is a pattern; `:name` segments become params. `nav` pages are linked in the header. */
export const PAGES = [
  { path: '', title: 'nav.home', load: () => import('./pages/home.js') },
  { path: 'sampler', title: 'nav.sampler', nav: true, load: () => import('./pages/sampler.js') },
  { path: 'lab', title: 'nav.lab', nav: true, load: () => import('./pages/lab.js') },
  { path: 'login', title: 'nav.login', public: true, load: () => import('./pages/login.js') },
];

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
    ? [h('li', { class: 'account' }, h('span', { id: 'whoami' }, t('login.signed_in_as', { name: signedIn.username }))),
      h('li', {}, h('button', { type: 'button', id: 'logout', onclick: onLogout }, t('login.sign_out')))]
    : [];
  replace(nav, h('ul', {}, PAGES.filter((p) => p.nav).map((p) =>
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
