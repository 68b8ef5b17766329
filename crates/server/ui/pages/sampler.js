// The sampler's page: pick round and site, scan a tube, scan people into
// it, seal it. Every action is a device event queued in IndexedDB and sent
// through POST /api/v1/sync whenever the network is there, so the page
// works the same offline. Duplicates and bad ID numbers are refused here at
// once; the server checks everything again and its refusals are shown
// beside the scan they concern.

import { t, errorText, formatTime, messages } from '../i18n.js';
import { h, replace, field, select } from '../dom.js';
import { get, post, me } from '../api.js';
import { readPersonScan, isBarcode, mask, DOCUMENT_KINDS } from '../lib/idcheck.js';
import * as feedback from '../lib/feedback.js';
import * as queue from '../lib/queue.js';

const AREA_LEVELS = 3; // district → sub-district → community: the three-level grid
const SYNC_EVERY_MS = 4000;

// Kept across remounts (a language switch re-renders the page).
let state = { setup: null, tube: null };
let records = new Map(); // seq → event record

async function loadState() {
  const saved = await queue.getMeta('sampler');
  if (saved) state = saved;
  await refreshRecords();
}

function saveState() {
  return queue.setMeta('sampler', state);
}

async function refreshRecords() {
  records = new Map((await queue.allEvents()).map((r) => [r.seq, r]));
}

const statusOf = (seq) => (records.get(seq) || {}).status || 'accepted';
const liveScans = () => (state.tube ? state.tube.scans.filter((s) => statusOf(s.seq) !== 'rejected') : []);
const expectingTube = () => !state.tube || state.tube.sealed;

function labelText(label) {
  return t(`event.${label.kind}`, { tube: label.tube, doc: label.doc || '' });
}

export async function mount(root) {
  await loadState();
  const device = await queue.deviceId();
  let editingSetup = !state.setup;
  let work = Promise.resolve(); // scans are handled one after another
  let lastSyncError = null;
  let timer = null;

  // ----- elements kept across updates -----
  const statusBar = h('div', { class: 'statusbar' });
  const setupSection = h('section', { class: 'panel', 'aria-labelledby': 'setup-h' });
  const scanSection = h('section', { class: 'panel scan', 'aria-labelledby': 'scan-h' });
  const syncSection = h('section', { class: 'panel', 'aria-labelledby': 'sync-h' });
  const okBox = h('div', { id: 'scan-ok', class: 'msg msg-ok', role: 'status' });
  const errBox = h('div', { id: 'scan-error', class: 'msg msg-error', role: 'alert' });
  const input = h('input', {
    type: 'text', autocomplete: 'off', autocapitalize: 'characters', spellcheck: false,
    enterkeyhint: 'done', class: 'scan-input',
  });
  const docKind = select(DOCUMENT_KINDS.map((k) => [k, t(`doc.${k}`)]), 'resident_id');
  const inputLabel = h('label', { for: 'scan-input' });
  const docKindField = field('scan-doc-kind', t('sampler.doc_kind'), docKind);
  const tubeBox = h('div', { class: 'tube' });
  const scansBox = h('div', {});

  root.append(
    h('h1', {}, t('sampler.title')),
    statusBar,
    setupSection,
    h('div', { class: 'columns' }, scanSection, syncSection),
  );

  function say(kind, text) {
    // One visible message at a time; errors in the alert region.
    if (kind === 'ok') {
      errBox.textContent = '';
      okBox.textContent = text;
    } else {
      okBox.textContent = '';
      errBox.textContent = text;
    }
  }

  // ----- status bar -----
  async function renderStatus() {
    const waiting = [...records.values()].filter((r) => r.status === 'queued' || r.status === 'pending');
    const online = navigator.onLine && !(lastSyncError && lastSyncError.code === 'network');
    const last = await queue.getMeta('last_sync');
    replace(statusBar,
      h('span', { id: 'online', class: `pill ${online ? 'pill-ok' : 'pill-offline'}` }, online ? t('common.online') : t('common.offline')),
      h('span', { id: 'queue-count', class: `pill ${waiting.length ? 'pill-warn' : 'pill-ok'}`, 'data-count': String(waiting.length) },
        waiting.length ? t('sampler.queued_count', { n: waiting.length }) : t('sampler.all_synced')),
      h('span', { class: 'muted' }, last ? t('sampler.last_sync', { time: formatTime(last) }) : t('sampler.never_synced')));
  }

  // ----- setup: round, area, site -----
  async function renderSetup() {
    if (!editingSetup) {
      const locked = state.tube && !state.tube.sealed;
      replace(setupSection,
        h('h2', { id: 'setup-h', class: 'visually-hidden' }, t('sampler.setup')),
        h('div', { class: 'summary' },
          h('strong', { id: 'setup-summary' }, t('sampler.summary', { round: state.setup.round.name, site: state.setup.site.name })),
          h('button', {
            type: 'button', class: 'secondary', id: 'setup-change', disabled: locked,
            'aria-describedby': locked ? 'setup-locked' : undefined,
            onclick: () => { editingSetup = true; renderSetup(); },
          }, t('sampler.change_setup')),
          locked ? h('small', { id: 'setup-locked', class: 'hint' }, t('sampler.setup_locked')) : null));
      return;
    }
    const note = h('p', { class: 'muted', role: 'status' });
    const roundSel = select([], '', t('common.choose'));
    const siteSel = select([], '', t('common.choose'));
    const areaBox = h('div', { class: 'area-levels' });
    const start = h('button', { type: 'submit', id: 'setup-start', disabled: true }, t('sampler.start'));
    const form = h('form', { class: 'setup-form', onsubmit: onStart },
      h('h2', { id: 'setup-h' }, t('sampler.setup')),
      field('setup-round', t('sampler.round'), roundSel, t('sampler.round_hint')),
      h('fieldset', {}, h('legend', {}, t('sampler.area_hint')), areaBox),
      field('setup-site', t('sampler.site'), siteSel),
      note,
      h('div', { class: 'actions' }, start));
    replace(setupSection, form);

    let rounds = [];
    let sites = [];
    let usedCache = false;
    const fetchJson = (p) => get(p);
    const cached = async (p) => {
      const r = await queue.cachedGet(p, fetchJson);
      usedCache = usedCache || r.cached;
      note.textContent = usedCache ? t('sampler.cached') : '';
      return r.data;
    };
    const ready = () => { start.disabled = !(roundSel.value && siteSel.value); };
    roundSel.addEventListener('change', ready);
    siteSel.addEventListener('change', ready);

    async function loadSites(areaId) {
      sites = areaId ? await cached(`/api/v1/sites?area=${areaId}`) : [];
      const keep = state.setup && sites.some((s) => s.id === state.setup.site.id) ? state.setup.site.id : '';
      replace(siteSel, h('option', { value: '' }, sites.length || !areaId ? t('common.choose') : t('sampler.no_sites')),
        sites.map((s) => h('option', { value: String(s.id), selected: s.id === keep }, s.name)));
      ready();
    }

    async function addLevel(level, items, chosen) {
      const sel = select(items.map((a) => [a.id, a.name]), chosen || '', t('common.choose'));
      const kind = items.length ? items[0].level : null;
      const label = kind && `level.${kind}` in messages.zh ? t(`level.${kind}`) : t('sampler.area_level', { n: level });
      areaBox.append(field(`setup-area-${level}`, label, sel));
      sel.addEventListener('change', async () => {
        // Drop deeper levels, then offer the next one.
        while (areaBox.children.length > level) areaBox.lastChild.remove();
        const id = sel.value;
        if (id && level < AREA_LEVELS) {
          const kids = await cached(`/api/v1/areas/${id}/children`);
          if (kids.length) await addLevel(level + 1, kids);
        }
        const chosenIds = [...areaBox.querySelectorAll('select')].map((s) => s.value).filter(Boolean);
        await loadSites(chosenIds[chosenIds.length - 1]);
      });
      if (chosen && level < AREA_LEVELS) {
        const kids = await cached(`/api/v1/areas/${chosen}/children`);
        const next = state.setup && state.setup.areas ? state.setup.areas[level] : undefined;
        if (kids.length) await addLevel(level + 1, kids, next);
      }
    }

    try {
      const now = Date.now();
      rounds = (await cached('/api/v1/rounds')).filter((r) => !r.closed && Date.parse(r.ends_at) > now);
      replace(roundSel, h('option', { value: '' }, rounds.length ? t('common.choose') : t('sampler.no_rounds')),
        rounds.map((r) => h('option', { value: String(r.id), selected: state.setup && state.setup.round.id === r.id }, `${r.name} (${r.pool_size}:1)`)));
      // Start at the account's own area: a community's sampler cannot (and
      // need not) list the district above it.
      const account = await me();
      const roots = account && account.scope_area
        ? [await cached(`/api/v1/areas/${account.scope_area}`)]
        : await cached('/api/v1/areas');
      const prev = state.setup && state.setup.areas ? state.setup.areas : [];
      await addLevel(1, roots, prev[0]);
      await loadSites(prev[prev.length - 1]);
    } catch (e) {
      note.textContent = errorText(e.code, e.message);
    }

    async function onStart(e) {
      e.preventDefault();
      const round = rounds.find((r) => String(r.id) === roundSel.value);
      const site = sites.find((s) => String(s.id) === siteSel.value);
      if (!round || !site) return;
      state.setup = {
        round: { id: round.id, name: round.name, pool_size: round.pool_size },
        site: { id: site.id, name: site.name },
        areas: [...areaBox.querySelectorAll('select')].map((s) => Number(s.value)).filter(Boolean),
      };
      await saveState();
      editingSetup = false;
      await renderAll();
      input.focus();
    }
  }

  // ----- scanning -----
  function renderScan() {
    if (!state.setup || editingSetup) {
      scanSection.hidden = true;
      return;
    }
    scanSection.hidden = false;
    const wantTube = expectingTube();
    inputLabel.textContent = wantTube ? t('sampler.scan_tube') : t('sampler.scan_person');
    docKindField.hidden = wantTube;
    renderTube();
  }

  function renderTube() {
    const tube = state.tube;
    if (!tube) {
      replace(tubeBox, h('p', { class: 'muted' }, t('sampler.no_tube')));
      replace(scansBox);
      return;
    }
    const n = liveScans().length;
    const full = n >= tube.capacity;
    replace(tubeBox,
      h('div', { class: 'tube-head' },
        h('div', {},
          h('div', { class: 'muted' }, t('sampler.tube_label')),
          h('div', { id: 'tube-barcode', class: 'barcode' }, tube.barcode),
          tube.sealed ? h('span', { class: 'pill pill-ok', id: 'tube-sealed' }, t('sampler.sealed_pill')) : null),
        h('div', {
          id: 'tube-count', class: `count ${full ? 'count-full' : ''}`, 'data-n': String(n),
          'aria-label': t('sampler.count_label', { n, capacity: tube.capacity }),
        }, t('sampler.count', { n, capacity: tube.capacity }))),
      h('progress', { max: tube.capacity, value: n, 'aria-hidden': 'true' }),
      h('div', { class: 'actions' },
        h('button', {
          type: 'button', id: 'seal', class: 'secondary', disabled: tube.sealed || n === 0,
          onclick: () => run(() => seal(false)),
        }, t('sampler.seal'))));
    const items = [...tube.scans].reverse().map((s) => {
      const r = records.get(s.seq);
      const status = statusOf(s.seq);
      return h('li', { class: `scan-item scan-${status}`, 'data-status': status, 'data-seq': String(s.seq) },
        h('span', { class: 'doc' }, s.masked),
        h('span', { class: `badge badge-${status}` }, t(`scan.${status}`)),
        status === 'rejected' && r ? h('span', { class: 'reason' }, errorText(r.code, r.message)) : null);
    });
    replace(scansBox,
      h('h3', {}, t('sampler.scans')),
      items.length ? h('ol', { class: 'scans', id: 'scans' }, items) : h('p', { class: 'muted' }, t('sampler.no_scans')));
  }

  function buildScanSection() {
    replace(scanSection,
      h('h2', { id: 'scan-h', class: 'visually-hidden' }, t('sampler.scan_tube')),
      h('form', { class: 'scan-form', onsubmit: onScan },
        docKindField,
        h('div', { class: 'field' },
          inputLabel,
          h('div', { class: 'inline' }, input, h('button', { type: 'submit' }, t('sampler.submit'))),
          h('small', { id: 'scan-input-hint', class: 'hint' }, t('sampler.scan_hint')))),
      okBox, errBox, tubeBox, scansBox);
    input.id = 'scan-input';
    input.setAttribute('aria-describedby', 'scan-input-hint scan-error');
  }

  function run(f) {
    work = work.then(f).catch((e) => {
      console.error(e);
      say('error', String(e.message || e));
    });
    return work;
  }

  function onScan(e) {
    e.preventDefault();
    const raw = input.value.trim();
    input.value = '';
    if (!raw) return;
    run(() => (expectingTube() ? scanTube(raw) : scanPerson(raw)));
  }

  async function scanTube(raw) {
    if (/^\d{17}[\dXx]$/.test(raw) || raw.startsWith('GSHC1|')) {
      feedback.warn();
      return say('error', t('sampler.looks_like_id'));
    }
    if (!isBarcode(raw)) {
      feedback.warn();
      return say('error', t('sampler.invalid_barcode'));
    }
    const tube = raw;
    const { round, site } = state.setup;
    const rec = await queue.enqueue({ type: 'open_tube', tube, round: round.id, site: site.id },
      { kind: 'open_tube', tube });
    state.tube = { barcode: tube, capacity: round.pool_size, sealed: false, scans: [], openSeq: rec.seq };
    await saveState();
    records.set(rec.seq, rec);
    feedback.ok();
    say('ok', t('sampler.opened', { tube, capacity: round.pool_size }));
    renderAll();
    syncSoon();
  }

  async function scanPerson(raw) {
    const r = readPersonScan(raw, docKind.value);
    if (!r.ok) {
      feedback.warn();
      return say('error', t('sampler.invalid_id', { reason: t(r.reason, r.params) }));
    }
    const key = `${r.kind}:${r.number}`;
    const masked = mask(r.kind, r.number);
    if (liveScans().some((s) => s.key === key)) {
      feedback.warn();
      return say('error', t('sampler.duplicate', { doc: masked }));
    }
    const tube = state.tube;
    const payload = r.qr
      ? { type: 'add_person', tube: tube.barcode, qr: r.qr }
      : { type: 'add_person', tube: tube.barcode, document: r.number, document_kind: r.kind };
    const rec = await queue.enqueue(payload, { kind: 'add_person', tube: tube.barcode, doc: masked });
    tube.scans.push({ seq: rec.seq, key, masked });
    records.set(rec.seq, rec);
    const n = liveScans().length;
    await saveState();
    feedback.ok();
    say('ok', t('sampler.added', { doc: masked, n, capacity: tube.capacity }));
    if (n >= tube.capacity) await seal(true);
    renderAll();
    syncSoon();
  }

  async function seal(auto) {
    const tube = state.tube;
    if (!tube || tube.sealed) return;
    const n = liveScans().length;
    if (n === 0) {
      feedback.warn();
      return say('error', t('sampler.empty_tube'));
    }
    const rec = await queue.enqueue({ type: 'seal_tube', tube: tube.barcode }, { kind: 'seal_tube', tube: tube.barcode });
    records.set(rec.seq, rec);
    tube.sealed = true;
    tube.sealSeq = rec.seq;
    await saveState();
    say('ok', auto ? t('sampler.full_sealed', { tube: tube.barcode }) : t('sampler.sealed', { tube: tube.barcode, n }));
    renderAll();
    input.focus();
    syncSoon();
  }

  // ----- sync -----
  function renderSync() {
    const all = [...records.values()];
    const waiting = all.filter((r) => r.status === 'queued' || r.status === 'pending');
    const rejected = all.filter((r) => r.status === 'rejected').reverse();
    replace(syncSection,
      h('h2', { id: 'sync-h' }, t('sampler.queue')),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'secondary', id: 'sync-now', onclick: () => syncSoon() }, t('sampler.sync_now'))),
      lastSyncError ? h('p', { class: 'msg msg-warn', id: 'sync-error' }, lastSyncError.code === 'network'
        ? t('sampler.offline_note')
        : t('sampler.sync_failed', { message: errorText(lastSyncError.code, lastSyncError.message) })) : null,
      h('h3', {}, t('sampler.queued_list')),
      waiting.length
        ? h('ol', { class: 'queue', id: 'queue' }, waiting.slice(0, 50).map((r) =>
          h('li', { 'data-seq': String(r.seq) }, h('span', { class: 'seq' }, `#${r.seq}`), ' ', labelText(r.label),
            ' ', h('span', { class: `badge badge-${r.status}` }, t(`scan.${r.status}`)))))
        : h('p', { class: 'muted' }, t('sampler.all_synced')),
      h('h3', {}, t('sampler.rejections')),
      rejected.length
        ? h('ul', { class: 'rejections', id: 'rejections' }, rejected.slice(0, 50).map((r) =>
          h('li', { 'data-code': r.code }, h('span', { class: 'seq' }, `#${r.seq}`), ' ', t('sampler.rejection_line', { what: labelText(r.label) }),
            h('strong', {}, errorText(r.code, r.message)))))
        : h('p', { class: 'muted' }, t('sampler.no_rejections')),
      h('p', { class: 'muted small' }, t('sampler.device', { device })));
  }

  async function syncSoon() {
    const { changed, error } = await queue.syncNow(post);
    lastSyncError = error;
    await refreshRecords();
    // A refusal of something in the tube on screen is said out loud.
    const mine = new Set(state.tube ? [state.tube.openSeq, state.tube.sealSeq, ...state.tube.scans.map((s) => s.seq)] : []);
    const refused = changed.filter((r) => r.status === 'rejected' && mine.has(r.seq));
    if (refused.length) {
      feedback.warn();
      const r = refused[refused.length - 1];
      say('error', t('sampler.rejected_scan', { what: labelText(r.label), reason: errorText(r.code, r.message) }));
    }
    renderAll();
  }

  async function renderAll() {
    await renderStatus();
    if (!editingSetup) renderSetup();
    renderScan();
    renderSync();
  }

  buildScanSection();
  await renderSetup();
  await renderAll();
  if (!editingSetup) input.focus();

  const onOnline = () => syncSoon();
  const onOffline = () => renderStatus();
  window.addEventListener('online', onOnline);
  window.addEventListener('offline', onOffline);
  timer = setInterval(() => {
    if ([...records.values()].some((r) => r.status === 'queued' || r.status === 'pending')) syncSoon();
    else renderStatus();
  }, SYNC_EVERY_MS);
  syncSoon();

  return () => {
    clearInterval(timer);
    window.removeEventListener('online', onOnline);
    window.removeEventListener('offline', onOffline);
  };
}
