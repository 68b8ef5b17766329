// The start page: the pages this account works with, and what each is for.

import { t } from '../i18n.js';
import { h } from '../dom.js';
import { me } from '../api.js';
import { pagesFor } from '../app.js';

export async function mount(root) {
  const account = await me();
  const pages = pagesFor(account);
  root.append(
    h('h1', {}, t('home.title')),
    h('p', {}, t('home.intro')),
    pages.length
      ? h('ul', { class: 'cards' }, pages.map((p) => h('li', { class: 'card' },
        h('h2', {}, h('a', { href: `#/${p.path}` }, t(p.title))),
        h('p', {}, t(p.desc)))))
      : h('p', { class: 'muted' }, t('home.nothing')),
  );
}
