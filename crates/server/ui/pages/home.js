// The start page: what each page is for.

import { t } from '../i18n.js';
import { h } from '../dom.js';

export function mount(root) {
  root.append(
    h('h1', {}, t('home.title')),
    h('p', {}, t('home.intro')),
    h('ul', { class: 'cards' },
      h('li', { class: 'card' }, h('h2', {}, h('a', { href: '#/sampler' }, t('nav.sampler'))), h('p', {}, t('home.sampler_desc'))),
      h('li', { class: 'card' }, h('h2', {}, h('a', { href: '#/lab' }, t('nav.lab'))), h('p', {}, t('home.lab_desc')))),
    h('p', { class: 'muted' }, t('home.more')),
  );
}
