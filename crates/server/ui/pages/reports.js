// Every incident with its report, as a page and as an Excel workbook.

import { t, label, formatDateTime, errorText } from '../i18n.js';
import { h } from '../dom.js';
import { get } from '../api.js';

export async function mount(root) {
  root.append(h('h1', {}, t('reports.title')));
  let all;
  try {
    all = await get('/api/v1/incidents');
  } catch (e) {
    root.append(h('p', { role: 'alert', class: 'msg msg-error' }, errorText(e.code, e.message)));
    return;
  }
  if (!all.length) {
    root.append(h('p', { class: 'muted' }, t('reports.none')));
    return;
  }
  root.append(h('ul', { class: 'plain panel', id: 'reports' }, all.map((i) => h('li', { 'data-id': String(i.id) },
    h('strong', {}, h('a', { href: `#/incident/${i.id}` }, i.title || i.area.name)),
    h('span', { class: 'muted small' }, `${formatDateTime(i.opened_at)} · ${label('incident_status', i.status)}`),
    h('a', { href: `#/report/${i.id}` }, t('reports.page')),
    h('a', { href: `/api/v1/incidents/${i.id}/report/xlsx`, download: `incident-${i.id}.xlsx` }, t('reports.xlsx'))))));
}
