// Service worker: keeps the page itself loadable offline (a sampler who
// reloads in a basement still gets the sampler page and its queue). Network
// first, so a new server version is used as soon as it is reachable; the
// cache only answers when the network does not. API calls are not touched:
// the page queues its writes in IndexedDB and caches the lists it needs.

const CACHE = 'gridsweep-ui-v2';
const SHELL = [
  '/',
  '/ui/app.css',
  '/ui/app.js',
  '/ui/i18n.js',
  '/ui/api.js',
  '/ui/dom.js',
  '/ui/icon.svg',
  '/ui/lib/idcheck.js',
  '/ui/lib/feedback.js',
  '/ui/lib/queue.js',
  '/ui/lib/live.js',
  '/ui/pages/home.js',
  '/ui/pages/sampler.js',
  '/ui/pages/lab.js',
  '/ui/pages/login.js',
  '/ui/pages/dashboard.js',
  '/ui/pages/incident.js',
  '/ui/pages/grid.js',
  '/ui/pages/reports.js',
  '/ui/pages/report.js',
  '/ui/pages/password.js',
];

self.addEventListener('install', (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (e) => {
  e.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener('fetch', (e) => {
  const url = new URL(e.request.url);
  if (e.request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (!(url.pathname === '/' || url.pathname.startsWith('/ui/'))) return;
  e.respondWith(fetch(e.request)
    .then((res) => {
      if (res.ok) {
        const copy = res.clone();
        caches.open(CACHE).then((c) => c.put(url.pathname, copy));
      }
      return res;
    })
    .catch(() => caches.match(url.pathname).then((hit) => hit || Response.error())));
});
