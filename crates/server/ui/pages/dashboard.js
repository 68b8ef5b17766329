// The command dashboard: every open incident with its live figures —
// pool members retested n/N, tubes awaiting results, coverage of each
// controlled compound, time since the alert, decisions waiting — and the
// latest non-negative tubes, all kept current from the live event stream
// without a reload.

import { t, label, formatTime, formatDuration, errorText } from '../i18n.js';
import { h, replace } from '../dom.js';
import { get } from '../api.js';
import { subscribe } from '../lib/live.js';

/** How long to gather events about one incident before refetching it. */
const SETTLE_MS = 250;

function pct(share) {
  return `${Math.floor(share * 1000) / 10}%`;
}

/** A labelled bar: the share of `tally` sampled or explained (all of an empty roster). */
export function coverageBar(name, tally, id) {
  const share = tally.roster ? (tally.sampled + tally.explained) / tally.roster : 1;
  return h('div', { class: 'cov', 'data-area': id },
    h('div', { class: 'cov-head' },
      h('span', { class: 'cov-name' }, name),
      h('strong', { class: 'cov-pct' }, pct(share))),
    h('div', {
      class: 'bar', role: 'progressbar', 'aria-label': name,
      'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(Math.round(share * 100)),
    },
    h('span', { class: 'bar-sampled', style: `width:${tally.roster ? (100 * tally.sampled) / tally.roster : 0}%` }),
    h('span', { class: 'bar-explained', style: `width:${tally.roster ? (100 * tally.explained) / tally.roster : 0}%` })),
    h('small', { class: 'muted' }, t('inc.coverage_line', tally)));
}

export function mount(root) {
  const state = h('span', { id: 'live-state', class: 'pill pill-off', 'data-state': 'connecting' }, t('live.connecting'));
  const alerts = h('ul', { id: 'alerts', class: 'plain' }, h('li', { class: 'muted' }, t('dash.no_alerts')));
  const openList = h('div', { id: 'incidents', class: 'incident-cards' });
  // Announces a new incident or non-negative tube once (the cards' clocks
  // tick every second and must not be read out each time).
  const announce = h('p', { class: 'visually-hidden', 'aria-live': 'assertive', id: 'announce' });
  const closedList = h('ul', { id: 'closed', class: 'plain' });
  const error = h('p', { role: 'alert', class: 'msg msg-error', hidden: true });
  root.append(
    h('div', { class: 'page-head' }, h('h1', {}, t('dash.title')), state),
    error,
    announce,
    h('section', { class: 'panel', 'aria-labelledby': 'alerts-h' }, h('h2', { id: 'alerts-h' }, t('dash.alerts')), alerts),
    h('section', { 'aria-labelledby': 'open-h' }, h('h2', { id: 'open-h' }, t('dash.open')), openList),
    h('section', { class: 'panel', 'aria-labelledby': 'closed-h' }, h('h2', { id: 'closed-h' }, t('dash.closed')), closedList),
  );

  /** id → { info, live, el } for the open incidents. */
  const cards = new Map();
  const seenAlerts = [];
  const pending = new Map();
  let gone = false;

  function sinceText(info) {
    return formatDuration(Date.now() - new Date(info.opened_at).getTime());
  }

  function renderCard(id) {
    const c = cards.get(id);
    if (!c) return;
    const info = c.info;
    const l = c.live;
    const figures = [];
    figures.push(h('div', { class: 'figure' },
      h('span', { class: 'figure-label' }, t('dash.since_alert')),
      h('strong', { class: 'figure-value since', 'data-opened': info.opened_at }, sinceText(info))));
    if (l) {
      figures.push(h('div', { class: 'figure' },
        h('span', { class: 'figure-label' }, t('dash.retested')),
        h('strong', { class: 'figure-value retested' }, `${l.retested}/${l.retests.members}`)));
      figures.push(h('div', { class: 'figure' },
        h('span', { class: 'figure-label' }, t('dash.awaiting')),
        h('strong', { class: 'figure-value awaiting' }, String(l.tubes_awaiting))));
    }
    const cov = l
      ? (l.compounds.length
        ? l.compounds.map((cc) => coverageBar(cc.area.name, cc.tally, cc.area.id))
        : h('p', { class: 'muted small' }, t('dash.no_coverage')))
      : h('p', { class: 'muted small' }, t('app.loading'));
    const waiting = l && l.proposed.length
      ? h('p', { class: 'msg msg-warn decisions-waiting' }, t('dash.decisions_waiting', { n: l.proposed.length }),
        h('span', { class: 'detail' }, l.proposed.map((d) => label('decision', d.kind)).join('、')))
      : null;
    const el = h('article', { class: 'panel incident-card', 'data-id': String(id), 'aria-labelledby': `inc-${id}-h` },
      h('div', { class: 'card-head' },
        h('h3', { id: `inc-${id}-h` }, h('a', { href: `#/incident/${id}` }, info.title || info.area.name)),
        h('span', { class: 'pill pill-warn' }, label('incident_status', info.status))),
      h('p', { class: 'muted small' },
        `${info.area.name} · ${formatTime(info.opened_at)}`,
        info.trigger_tube ? ` · ${t('dash.trigger', { tube: info.trigger_tube })}` : ''),
      h('div', { class: 'figures' }, figures),
      h('h4', {}, t('dash.coverage')),
      cov,
      waiting,
      l ? h('p', { class: 'small muted' }, t('dash.tasks_open', { open: l.tasks_open, total: l.tasks_total })) : null,
      h('p', {}, h('a', { href: `#/incident/${id}`, class: 'button-link' }, t('dash.open_incident', { id }))));
    if (c.el && c.el.isConnected) c.el.replaceWith(el);
    else openList.append(el);
    c.el = el;
    const empty = openList.querySelector('.empty');
    if (empty) empty.remove();
  }

  async function refresh(id) {
    try {
      const l = await get(`/api/v1/incidents/${id}/live`);
      if (gone) return;
      if (l.incident.status !== 'open') {
        await loadList();
        return;
      }
      const c = cards.get(id) || { info: l.incident };
      c.info = l.incident;
      c.live = l;
      cards.set(id, c);
      renderCard(id);
    } catch (e) {
      if (e.status !== 403 && e.status !== 404) showError(e);
    }
  }

  function later(id) {
    if (pending.has(id)) return;
    pending.set(id, setTimeout(() => {
      pending.delete(id);
      refresh(id);
    }, SETTLE_MS));
  }

  function showError(e) {
    error.textContent = errorText(e.code, e.message);
    error.hidden = false;
  }

  async function loadList() {
    let all;
    try {
      all = await get('/api/v1/incidents');
    } catch (e) {
      showError(e);
      return;
    }
    if (gone) return;
    error.hidden = true;
    const open = all.filter((i) => i.status === 'open');
    for (const id of [...cards.keys()]) {
      if (!open.some((i) => i.id === id)) {
        const c = cards.get(id);
        if (c.el) c.el.remove();
        cards.delete(id);
      }
    }
    for (const i of open) {
      if (!cards.has(i.id)) {
        cards.set(i.id, { info: i, live: null, el: null });
        renderCard(i.id);
      }
      refresh(i.id);
    }
    if (!open.length) replace(openList, h('p', { class: 'muted empty' }, t('dash.no_open')));
    const closed = all.filter((i) => i.status !== 'open');
    replace(closedList, closed.length
      ? closed.map((i) => h('li', {},
        h('a', { href: `#/incident/${i.id}` }, i.title || i.area.name),
        h('span', { class: 'muted small' }, `${formatTime(i.opened_at)} – ${i.closed_at ? formatTime(i.closed_at) : ''}`),
        h('a', { href: `#/report/${i.id}` }, t('nav.report'))))
      : h('li', { class: 'muted' }, t('common.none')));
  }

  function addAlert(ev) {
    seenAlerts.unshift(ev);
    announce.textContent = t('dash.alert_line', { tube: ev.tube, outcome: label('outcome', ev.outcome) });
    replace(alerts, seenAlerts.slice(0, 10).map((a) => h('li', { class: `alert alert-${a.outcome}`, 'data-tube': a.tube },
      h('span', { class: 'barcode' }, a.tube),
      h('span', { class: `badge badge-rejected` }, label('outcome', a.outcome)),
      h('span', { class: 'muted small' }, formatTime(a.at)))));
  }

  const close = subscribe((name, ev) => {
    if (gone || !ev) return;
    switch (name) {
      case 'tube_resulted':
        if (ev.outcome !== 'negative') addAlert(ev);
        for (const id of cards.keys()) later(id);
        break;
      case 'incident_opened':
        announce.textContent = `${t('dash.open')}: ${ev.area_name}`;
        // Shown at once from the event; the figures follow.
        if (!cards.has(ev.incident)) {
          cards.set(ev.incident, {
            info: { id: ev.incident, title: ev.area_name, area: { id: ev.area, name: ev.area_name },
              status: 'open', opened_at: ev.at, trigger_tube: ev.tube },
            live: null,
            el: null,
          });
          renderCard(ev.incident);
        }
        refresh(ev.incident);
        break;
      case 'incident_updated':
      case 'decision_proposed':
      case 'decision_decided':
        later(ev.incident);
        break;
      case 'incident_closed':
        loadList();
        break;
      case 'tube_sealed':
      case 'tube_received':
        for (const id of cards.keys()) later(id);
        break;
      case 'lagged':
        loadList();
        break;
      default:
    }
  }, (s, reconnected) => {
    state.dataset.state = s;
    state.className = `pill ${s === 'connected' ? 'pill-ok' : s === 'lost' ? 'pill-offline' : 'pill-off'}`;
    state.textContent = t(`live.${s}`);
    if (s === 'connected' && reconnected) loadList();
  });

  const tick = setInterval(() => {
    for (const el of openList.querySelectorAll('.since')) {
      el.textContent = formatDuration(Date.now() - new Date(el.dataset.opened).getTime());
    }
  }, 1000);

  loadList();
  return () => {
    gone = true;
    close();
    clearInterval(tick);
    for (const tm of pending.values()) clearTimeout(tm);
  };
}
