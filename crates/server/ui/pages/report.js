// One incident's report: the server's HTML report in the page, with the
// Excel workbook to download. The server renders the report, so the page,
// the workbook and the JSON always hold the same figures.

import { t } from '../i18n.js';
import { h } from '../dom.js';

export function mount(root, { id }) {
  const src = `/api/v1/incidents/${encodeURIComponent(id)}/report/html`;
  const frame = h('iframe', { src, title: t('report.frame', { id }), class: 'report-frame', id: 'report-frame' });
  // Same origin: grow the frame to its content so the page scrolls as one.
  frame.addEventListener('load', () => {
    const doc = frame.contentDocument;
    if (doc && doc.documentElement) frame.style.height = `${doc.documentElement.scrollHeight + 20}px`;
  });
  root.append(
    h('h1', {}, t('report.title', { id })),
    h('p', { class: 'actions' },
      h('a', { href: `#/incident/${id}`, class: 'button-link secondary' }, t('report.back')),
      h('a', { href: src, target: '_blank', rel: 'noopener', class: 'button-link secondary' }, t('report.open_page')),
      h('a', { href: `/api/v1/incidents/${id}/report/xlsx`, download: `incident-${id}.xlsx`, class: 'button-link', id: 'report-xlsx' }, t('inc.xlsx'))),
    frame);
}
