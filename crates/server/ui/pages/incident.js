// One incident: the timeline as a chart on a time axis, coverage bars per
// controlled compound and per building, members, tasks and control
// orders, and the decisions — confirm or reject, each after a
// confirmation step, for the roles allowed to decide.

import { t, label, formatTime, formatDateTime, formatDuration, errorText } from '../i18n.js';
import { h, replace } from '../dom.js';
import { get, post, me } from '../api.js';
import { subscribe } from '../lib/live.js';
import { coverageBar } from './dashboard.js';

/** Roles that may confirm or reject decisions (the server checks the rest). */
const DECIDERS = ['command', 'cdc'];
/** Roles that may mark a task done. */
const WORKERS = ['command', 'cdc', 'subdistrict', 'community', 'grid_worker'];

/** Timeline kinds grouped in the chart's lanes, top to bottom. */
const LANES = [
  ['alert', ['opened', 'joined', 'result', 'cascade']],
  ['grid', ['notified', 'mobilised']],
  ['control', ['order', 'lifted']],
  ['work', ['task', 'sampling']],
  ['decision', ['proposed', 'confirmed', 'rejected', 'closed', 'note']],
];
const SVG = 'http://www.w3.org/2000/svg';
/** Kinds named on the chart (their first occurrence). */
const MILESTONES = ['opened', 'mobilised', 'sampling', 'lifted', 'closed'];

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

/** The timeline on a time axis, one lane per kind of step. */
export function timelineChart(entries) {
  // A narrower drawing on a phone keeps its words legible when scaled down.
  const narrow = typeof window !== 'undefined' && window.innerWidth < 700;
  const width = narrow ? 600 : 1000;
  const left = narrow ? 118 : 150;
  const right = 20;
  const laneH = 34;
  const top = 16;
  const height = top + LANES.length * laneH + 40;
  const times = entries.map((e) => new Date(e.at).getTime());
  const t0 = Math.min(...times);
  const t1 = Math.max(...times, t0 + 60_000);
  const x = (ms) => left + ((ms - t0) / (t1 - t0)) * (width - left - right);
  const svg = s('svg', {
    viewBox: `0 0 ${width} ${height}`, class: 'timeline-chart', role: 'img',
    'aria-label': t('inc.timeline_chart', { n: entries.length, from: formatDateTime(t0), to: formatDateTime(t1) }),
  });
  LANES.forEach(([lane], i) => {
    const y = top + i * laneH + laneH / 2;
    svg.append(s('line', { x1: left, x2: width - right, y1: y, y2: y, class: 'lane-line' }));
    svg.append(s('text', { x: 8, y: y + 5, class: 'lane-label' }, t(`inc.lane.${lane}`)));
  });
  const axisY = top + LANES.length * laneH + 6;
  svg.append(s('line', { x1: left, x2: width - right, y1: axisY, y2: axisY, class: 'axis' }));
  const ticks = 6;
  // Seconds matter only when the whole story fits in a few minutes.
  const short = t1 - t0 < 10 * 60_000;
  for (let i = 0; i <= ticks; i++) {
    const ms = t0 + ((t1 - t0) * i) / ticks;
    const tx = x(ms);
    svg.append(s('line', { x1: tx, x2: tx, y1: axisY, y2: axisY + 6, class: 'axis' }));
    svg.append(s('text', { x: tx, y: axisY + 22, class: 'tick', 'text-anchor': i === 0 ? 'start' : i === ticks ? 'end' : 'middle' },
      short ? formatTime(ms) : formatTime(ms).slice(0, 5)));
  }
  // The story's milestones are named on the chart: the alert, the grid in
  // place, the first sampling, the all-clear.
  const named = new Set();
  entries.forEach((e, i) => {
    const lane = LANES.findIndex(([, kinds]) => kinds.includes(e.kind));
    const y = top + (lane < 0 ? LANES.length - 1 : lane) * laneH + laneH / 2;
    const dot = s('circle', { cx: x(times[i]), cy: y, r: 6, class: `dot dot-${e.kind}` });
    dot.append(s('title', {}, `${formatTime(e.at)} ${label('timeline', e.kind)}: ${e.text}`));
    svg.append(dot);
    if (MILESTONES.includes(e.kind) && !named.has(e.kind)) {
      named.add(e.kind);
      const cx = x(times[i]);
      const end = cx > (left + width) / 2;
      svg.append(s('text', { x: end ? cx - 10 : cx + 10, y: y - 8, class: 'milestone', 'text-anchor': end ? 'end' : 'start' },
        `${label('timeline', e.kind)} ${formatTime(e.at).slice(0, 5)}`));
    }
  });
  return svg;
}

function table(headers, rows, id) {
  return h('div', { class: 'table-wrap' }, h('table', { id },
    h('thead', {}, h('tr', {}, headers.map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', {}, rows)));
}

/** Asks before acting; resolves true when the person confirms. */
export function ask(question, note, okText) {
  return new Promise((resolve) => {
    const dlg = h('dialog', { class: 'confirm', 'aria-labelledby': 'confirm-q' });
    const finish = (v) => {
      dlg.close();
      dlg.remove();
      resolve(v);
    };
    const ok = h('button', { type: 'button', id: 'confirm-ok', onclick: () => finish(true) }, okText);
    const cancel = h('button', { type: 'button', class: 'secondary', id: 'confirm-cancel', onclick: () => finish(false) }, t('inc.cancel'));
    dlg.append(h('h2', { id: 'confirm-q' }, question), h('p', {}, note), h('div', { class: 'actions' }, ok, cancel));
    dlg.addEventListener('cancel', (e) => {
      e.preventDefault();
      finish(false);
    });
    document.body.append(dlg);
    dlg.showModal();
    cancel.focus();
  });
}

export async function mount(root, { id }) {
  const account = await me();
  const msg = h('p', { role: 'status', class: 'msg', id: 'incident-msg' });
  const body = h('div', { id: 'incident' }, h('p', { class: 'muted' }, t('app.loading')));
  root.append(h('h1', {}, t('inc.title', { id })), msg, body);
  let gone = false;
  let timer = null;

  function say(kind, text) {
    msg.className = `msg msg-${kind}`;
    msg.textContent = text;
  }

  async function decide(d, confirm) {
    const kind = label('decision', d.kind);
    const yes = await ask(t(confirm ? 'inc.confirm_q' : 'inc.reject_q', { kind }),
      t('inc.confirm_note', { user: account.username }), t(confirm ? 'inc.confirm' : 'inc.reject'));
    if (!yes) return;
    try {
      await post(`/api/v1/incidents/${id}/decisions/${d.id}/${confirm ? 'confirm' : 'reject'}`, {});
      say('ok', t('inc.decided', { kind, status: label('decision_status', confirm ? 'confirmed' : 'rejected') }));
      await load();
    } catch (e) {
      say('error', errorText(e.code, e.message));
    }
  }

  async function done(task) {
    try {
      await post(`/api/v1/incidents/${id}/tasks/${task.id}/done`, { by: account.display_name || account.username });
      say('ok', t('inc.task_done', { title: task.title }));
      await load();
    } catch (e) {
      say('error', errorText(e.code, e.message));
    }
  }

  async function coverageSection(d, l) {
    const round = d.expansion_round;
    if (!round) return h('p', { class: 'muted' }, t('inc.no_round'));
    const out = [];
    for (const c of l.compounds) {
      out.push(coverageBar(c.area.name, c.tally, c.area.id));
      try {
        const cov = await get(`/api/v1/coverage?area=${c.area.id}&round=${round}`);
        out.push(h('details', { class: 'buildings' },
          h('summary', {}, `${t('inc.buildings')} · ${c.area.name} (${cov.buildings.length})`),
          h('div', { class: 'building-bars' }, cov.buildings.map((b) => coverageBar(b.building.name, b.tally, b.building.id)))));
      } catch (e) {
        out.push(h('p', { class: 'muted small' }, errorText(e.code, e.message)));
      }
    }
    return out.length ? out : h('p', { class: 'muted' }, t('dash.no_coverage'));
  }

  async function load() {
    let d;
    let l;
    try {
      [d, l] = await Promise.all([get(`/api/v1/incidents/${id}`), get(`/api/v1/incidents/${id}/live`)]);
    } catch (e) {
      replace(body, h('p', { role: 'alert', class: 'msg msg-error' }, errorText(e.code, e.message)));
      return;
    }
    if (gone) return;
    const canDecide = DECIDERS.includes(account.role);
    const canWork = WORKERS.includes(account.role);
    const end = d.closed_at ? new Date(d.closed_at).getTime() : Date.now();
    const head = h('dl', { class: 'facts' },
      h('div', {}, h('dt', {}, t('inc.status')), h('dd', { id: 'incident-status', 'data-status': d.status }, label('incident_status', d.status))),
      h('div', {}, h('dt', {}, t('inc.area')), h('dd', {}, d.area.name)),
      h('div', {}, h('dt', {}, t('inc.opened')), h('dd', {}, formatDateTime(d.opened_at))),
      d.trigger_tube ? h('div', {}, h('dt', {}, t('inc.trigger')), h('dd', { class: 'barcode' }, d.trigger_tube)) : null,
      h('div', {}, h('dt', {}, t(d.closed_at ? 'inc.duration' : 'inc.since')), h('dd', {}, formatDuration(end - new Date(d.opened_at).getTime()))),
      h('div', {}, h('dt', {}, t('dash.retested')), h('dd', { id: 'incident-retested' }, `${l.retested}/${l.retests.members}`)),
      h('div', {}, h('dt', {}, t('dash.awaiting')), h('dd', {}, String(l.tubes_awaiting))));
    const decisions = d.decisions.length
      ? h('ul', { class: 'plain', id: 'decisions' }, d.decisions.map((x) => h('li', { 'data-kind': x.kind, 'data-status': x.status },
        h('strong', {}, label('decision', x.kind)),
        x.person ? h('span', {}, `${x.person.name} ${x.person.document_masked}`) : null,
        h('span', { class: `badge badge-${x.status === 'confirmed' ? 'accepted' : x.status === 'rejected' ? 'rejected' : 'queued'}` },
          label('decision_status', x.status)),
        h('span', { class: 'muted small', style: 'flex-basis:100%' }, x.reason),
        h('span', { class: 'muted small' }, t('inc.proposed_by', { by: x.proposed_by, at: formatTime(x.proposed_at) })),
        x.decided_at ? h('span', { class: 'muted small' }, t('inc.decided_by', { by: x.decided_by, at: formatTime(x.decided_at), status: label('decision_status', x.status) })) : null,
        x.status === 'proposed' && canDecide ? h('span', { class: 'actions' },
          h('button', { type: 'button', class: 'confirm-decision', 'data-decision': String(x.id), onclick: () => decide(x, true) }, t('inc.confirm')),
          h('button', { type: 'button', class: 'secondary reject-decision', onclick: () => decide(x, false) }, t('inc.reject'))) : null)))
      : h('p', { class: 'muted' }, t('inc.no_decisions'));
    const blockers = d.status === 'open'
      ? (d.blockers.length
        ? h('div', { class: 'msg msg-warn', id: 'blockers' }, t('inc.blockers'), h('ul', {}, d.blockers.map((b) => h('li', {}, b))))
        : h('p', { class: 'msg msg-ok', id: 'blockers' }, t('inc.no_blockers')))
      : null;
    const tasks = table([t('inc.kind'), t('inc.what'), t('inc.assignee'), t('common.status'), ''],
      d.tasks.map((x) => h('tr', { 'data-task': String(x.id), 'data-status': x.status },
        h('td', {}, label('task', x.kind)),
        h('td', {}, x.title),
        h('td', {}, `${x.assignee.area_name} ${label('grid_role', x.assignee.role)}`),
        h('td', {}, label('task_status', x.status), x.done_by ? h('span', { class: 'muted small' }, ` ${x.done_by}`) : null),
        h('td', {}, x.status === 'open' && canWork
          ? h('button', { type: 'button', class: 'secondary small-button', onclick: () => done(x) }, t('inc.done')) : null))),
      'tasks');
    const orders = table([t('inc.kind'), t('inc.who'), t('inc.from'), t('inc.lifted')],
      d.orders.map((o) => h('tr', { 'data-kind': o.kind, 'data-lifted': o.lifted_at ? 'yes' : 'no' },
        h('td', {}, label('order', o.kind)),
        h('td', {}, o.area ? o.area.name : o.person ? `${o.person.name} ${o.person.document_masked}` : ''),
        h('td', {}, formatDateTime(o.starts_at)),
        h('td', {}, o.lifted_at ? `${formatDateTime(o.lifted_at)} ${o.lifted_by || ''}` : '—'))),
      'orders');
    const members = table([t('inc.name'), t('inc.person_doc'), t('inc.kind'), t('common.status'), t('inc.address')],
      d.members.map((m) => h('tr', {},
        h('td', {}, m.person.name),
        h('td', { class: 'doc' }, m.person.document_masked),
        h('td', {}, label('member', m.kind)),
        h('td', {}, label('member_status', m.status)),
        h('td', {}, m.address))),
      'members');
    const timeline = h('section', { class: 'panel', 'aria-labelledby': 'tl-h' },
      h('h2', { id: 'tl-h' }, t('inc.timeline')),
      d.timeline.length ? timelineChart(d.timeline) : null,
      h('details', {}, h('summary', {}, t('inc.timeline_list')),
        table([t('common.time'), t('inc.kind'), t('inc.what'), t('inc.actor')],
          d.timeline.map((e) => h('tr', {}, h('td', {}, formatDateTime(e.at)), h('td', {}, label('timeline', e.kind)),
            h('td', {}, e.text), h('td', {}, e.actor))), 'timeline')));
    const links = h('p', { class: 'actions' },
      h('a', { href: `#/report/${id}`, class: 'button-link', id: 'report-link' }, t('inc.report')),
      h('a', { href: `/api/v1/incidents/${id}/report/xlsx`, download: `incident-${id}.xlsx`, class: 'button-link secondary' }, t('inc.xlsx')));
    replace(body,
      d.parent ? h('p', {}, h('a', { href: `#/incident/${d.parent}` }, t('inc.parent', { id: d.parent }))) : null,
      h('section', { class: 'panel' }, h('h2', {}, d.title), head, links),
      h('section', { class: 'panel', 'aria-labelledby': 'dec-h' }, h('h2', { id: 'dec-h' }, t('inc.decisions')), blockers, decisions,
        canDecide ? null : h('p', { class: 'muted small' }, t('inc.not_allowed'))),
      timeline,
      h('section', { class: 'panel', 'aria-labelledby': 'cov-h' }, h('h2', { id: 'cov-h' }, t('inc.coverage')), await coverageSection(d, l)),
      h('section', { class: 'panel', 'aria-labelledby': 'tasks-h' }, h('h2', { id: 'tasks-h' }, t('inc.tasks')), tasks),
      h('section', { class: 'panel', 'aria-labelledby': 'orders-h' }, h('h2', { id: 'orders-h' }, t('inc.orders')), orders),
      h('section', { class: 'panel', 'aria-labelledby': 'members-h' }, h('h2', { id: 'members-h' }, t('inc.members')), members));
  }

  // Command and CDC follow the live stream; other roles see the page as loaded.
  const close = DECIDERS.includes(account.role)
    ? subscribe((name, ev) => {
      if (ev && ev.incident === Number(id) && !timer) {
        timer = setTimeout(() => {
          timer = null;
          load();
        }, 500);
      }
    })
    : () => {};
  await load();
  return () => {
    gone = true;
    close();
    if (timer) clearTimeout(timer);
  };
}
