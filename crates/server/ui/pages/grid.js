// The grid worker at the door: my grid's buildings in the current round,
// who is still missing (IDs masked), marking a person away, in hospital
// or sampled elsewhere (then explained, not missing), and my door-to-door
// tasks with a button to mark each done.

import { t, label, errorText } from '../i18n.js';
import { h, replace, field, select } from '../dom.js';
import { get, post, me } from '../api.js';
import { coverageBar } from './dashboard.js';

const MARKS = ['away', 'hospitalised', 'sampled_elsewhere'];

/** The areas of `round` to count for someone whose scope is `mine`
 * (with its ancestors): my own area when the round covers it, else the
 * round's areas inside my scope. */
async function targetsOf(round, mine) {
  const above = new Set([mine.id, ...(mine.ancestors || []).map((a) => a.id)]);
  if (round.areas.some((a) => above.has(a))) return [mine];
  const inside = [];
  for (const a of round.areas) {
    try {
      inside.push(await get(`/api/v1/areas/${a}`));
    } catch {
      // Outside my scope: not mine to count.
    }
  }
  return inside;
}

export async function mount(root) {
  const account = await me();
  const msg = h('p', { role: 'status', class: 'msg', id: 'grid-msg' });
  const roundSel = select([], '', undefined);
  const roundField = field('grid-round', t('grid.round'), roundSel, t('grid.round_hint'));
  const coverage = h('div', { id: 'grid-coverage' }, h('p', { class: 'muted' }, t('app.loading')));
  const tasks = h('div', { id: 'grid-tasks' }, h('p', { class: 'muted' }, t('app.loading')));
  const areaLine = h('p', { class: 'muted', id: 'grid-area' });
  root.append(
    h('h1', {}, t('grid.title')),
    areaLine,
    msg,
    h('section', { class: 'panel', 'aria-labelledby': 'grid-tasks-h' },
      h('h2', { id: 'grid-tasks-h' }, t('grid.tasks')), tasks),
    h('section', { class: 'panel', 'aria-labelledby': 'grid-cov-h' },
      h('h2', { id: 'grid-cov-h' }, t('grid.missing_title')), roundField, coverage),
  );
  let gone = false;

  function say(kind, text) {
    msg.className = `msg msg-${kind}`;
    msg.textContent = text;
  }

  if (!account.scope_area) {
    replace(coverage, h('p', { class: 'muted' }, t('grid.no_rounds')));
    replace(tasks, h('p', { class: 'muted' }, t('grid.no_tasks')));
    return undefined;
  }
  const mine = await get(`/api/v1/areas/${account.scope_area}`);
  areaLine.textContent = t('grid.my_area', { area: [...(mine.ancestors || []).slice(1).map((a) => a.name)].join(' ') || mine.name });

  // Rounds that touch my grid, newest first. An incident's retest round
  // names people, not places: nobody in a building is "missing" from it.
  const retests = new Set((await get('/api/v1/incidents')).map((i) => i.retest_round).filter(Boolean));
  const rounds = (await get('/api/v1/rounds'))
    .filter((r) => !r.closed && !retests.has(r.id))
    .sort((a, b) => b.id - a.id);
  const mineRounds = [];
  for (const r of rounds) {
    const targets = await targetsOf(r, mine);
    if (targets.length) mineRounds.push({ round: r, targets });
  }
  if (gone) return undefined;
  replace(roundSel, mineRounds.map(({ round }) => h('option', { value: String(round.id) }, round.name)));

  async function mark(round, person, kind, building) {
    try {
      await post(`/api/v1/rounds/${round.id}/marks`, {
        person: person.id, kind, by: account.display_name || account.username,
      });
      say('ok', t('grid.marked', { name: person.name, kind: label('mark', kind) }));
      await showCoverage(building);
    } catch (e) {
      say('error', errorText(e.code, e.message));
    }
  }

  function personRow(round, p, building) {
    const kindSel = select(MARKS.map((k) => [k, label('mark', k)]), 'away');
    const selId = `mark-${p.person.id}`;
    kindSel.id = selId;
    return h('li', { class: 'missing', 'data-person': String(p.person.id) },
      h('span', { class: 'name' }, p.person.name),
      h('span', { class: 'doc' }, p.person.document_masked),
      h('span', { class: 'muted small' }, p.household),
      h('span', { class: 'inline mark-form' },
        h('label', { for: selId, class: 'visually-hidden' }, t('grid.mark_as', { name: p.person.name })),
        kindSel,
        h('button', { type: 'button', class: 'secondary mark-button', onclick: () => mark(round, p.person, kindSel.value, building.id) }, t('grid.mark'))));
  }

  async function showCoverage(openBuilding) {
    const entry = mineRounds.find((m) => String(m.round.id) === roundSel.value);
    if (!entry) {
      replace(coverage, h('p', { class: 'muted' }, t('grid.no_rounds')));
      return;
    }
    const parts = [];
    for (const area of entry.targets) {
      let cov;
      try {
        cov = await get(`/api/v1/coverage?area=${area.id}&round=${entry.round.id}`);
      } catch (e) {
        parts.push(h('p', { class: 'msg msg-error' }, errorText(e.code, e.message)));
        continue;
      }
      parts.push(coverageBar(cov.area.name, cov.total, cov.area.id));
      const withMissing = cov.buildings.filter((b) => b.missing.length || b.explained.length);
      if (!cov.total.missing) parts.push(h('p', { class: 'msg msg-ok' }, t('grid.all_done')));
      withMissing.forEach((b, i) => {
        // A big compound has thousands missing on the first day: a
        // building's list is built when it is opened (the first is open).
        const lists = h('div', {});
        const fill = () => {
          if (lists.childElementCount) return;
          lists.append(
            h('ul', { class: 'plain missing-list' }, b.missing.map((p) => personRow(entry.round, p, b.building))),
            b.explained.length ? h('h4', {}, t('grid.explained_title')) : null,
            h('ul', { class: 'plain explained-list' }, b.explained.map((p) => h('li', { 'data-person': String(p.person.id) },
              h('span', {}, p.person.name), h('span', { class: 'doc' }, p.person.document_masked),
              h('span', { class: 'badge badge-accepted' }, label('mark', p.mark))))));
        };
        const open = openBuilding === undefined ? i === 0 : openBuilding === b.building.id;
        const det = h('details', { class: 'building', 'data-building': String(b.building.id), open },
          h('summary', {}, t('grid.building_line', { building: [b.place, b.building.name].filter(Boolean).join(' '), missing: b.tally.missing, roster: b.tally.roster })),
          lists);
        det.addEventListener('toggle', () => { if (det.open) fill(); });
        if (open) fill();
        parts.push(det);
      });
    }
    if (!gone) replace(coverage, parts);
  }

  async function done(incident, task) {
    try {
      await post(`/api/v1/incidents/${incident}/tasks/${task.id}/done`, { by: account.display_name || account.username });
      say('ok', t('inc.task_done', { title: task.title }));
      await showTasks();
    } catch (e) {
      say('error', errorText(e.code, e.message));
    }
  }

  async function showTasks() {
    const incidents = (await get('/api/v1/incidents')).filter((i) => i.status === 'open');
    const rows = [];
    for (const inc of incidents) {
      let list;
      try {
        list = await get(`/api/v1/incidents/${inc.id}/tasks`);
      } catch {
        continue;
      }
      for (const task of list) {
        if (task.assignee.area !== account.scope_area) continue;
        rows.push(h('li', { class: 'task', 'data-task': String(task.id), 'data-kind': task.kind, 'data-status': task.status },
          h('span', { class: 'task-title' }, task.title.includes(label('task', task.kind)) ? null : h('strong', {}, `${label('task', task.kind)} `), task.title),
          h('span', { class: `badge ${task.status === 'done' ? 'badge-accepted' : 'badge-queued'}` }, label('task_status', task.status)),
          task.status === 'open'
            ? h('button', { type: 'button', class: 'secondary task-done', onclick: () => done(inc.id, task) }, t('inc.done'))
            : null));
      }
    }
    if (!gone) replace(tasks, rows.length ? h('ul', { class: 'plain' }, rows) : h('p', { class: 'muted' }, t('grid.no_tasks')));
  }

  roundSel.addEventListener('change', () => showCoverage());
  await Promise.all([showCoverage(), showTasks()]);
  return () => {
    gone = true;
  };
}
