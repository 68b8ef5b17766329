// Replace one's own password. A one-time password (the first start's admin
// password) brings the person here before anything else.

import { t, errorText } from '../i18n.js';
import { h, field, replace } from '../dom.js';
import { post, refreshMe, me } from '../api.js';

export async function mount(root) {
  const account = await me();
  const current = h('input', { type: 'password', autocomplete: 'current-password', required: true });
  const next = h('input', { type: 'password', autocomplete: 'new-password', required: true, minlength: '10' });
  const again = h('input', { type: 'password', autocomplete: 'new-password', required: true, minlength: '10' });
  const msg = h('p', { role: 'alert', class: 'msg', id: 'password-msg' });
  const submit = h('button', { type: 'submit', id: 'password-submit' }, t('password.submit'));
  async function onSubmit(e) {
    e.preventDefault();
    msg.className = 'msg';
    msg.textContent = '';
    if (next.value !== again.value) {
      msg.className = 'msg msg-error';
      msg.textContent = t('password.mismatch');
      again.focus();
      return;
    }
    submit.disabled = true;
    try {
      await post('/api/v1/auth/password', { current_password: current.value, new_password: next.value });
      const fresh = await refreshMe();
      msg.className = 'msg msg-ok';
      msg.textContent = t('password.changed');
      current.value = next.value = again.value = '';
      if (account && account.must_change_password && !fresh.must_change_password) {
        setTimeout(() => { location.hash = '#/'; }, 800);
      }
    } catch (err) {
      msg.className = 'msg msg-error';
      msg.textContent = err.field === 'new_password' ? t('password.too_weak') : errorText(err.code, err.message);
    } finally {
      submit.disabled = false;
    }
  }
  replace(root,
    h('h1', {}, t('password.title')),
    account && account.must_change_password ? h('p', { class: 'msg msg-warn', id: 'password-required' }, t('password.required')) : null,
    h('form', { class: 'setup-form panel', onsubmit: onSubmit },
      field('password-current', t('password.current'), current),
      field('password-new', t('password.new'), next, t('password.hint')),
      field('password-again', t('password.again'), again),
      msg,
      h('div', { class: 'actions' }, submit)),
  );
  current.focus();
}
