// Sign in with a user name and password; then back to the page asked for.

import { t, errorText } from '../i18n.js';
import { h, field } from '../dom.js';
import { login } from '../api.js';

export function mount(root, params) {
  const user = h('input', { id: 'login-username', name: 'username', autocomplete: 'username', required: true });
  const pass = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const msg = h('p', { role: 'alert', class: 'msg', hidden: true });
  const submit = h('button', { type: 'submit', class: 'primary', id: 'login-submit' }, t('login.submit'));
  async function onSubmit(e) {
    e.preventDefault();
    submit.disabled = true;
    msg.hidden = true;
    try {
      await login(user.value.trim(), pass.value);
      const next = sessionStorage.getItem('gs_next') || '#/';
      sessionStorage.removeItem('gs_next');
      location.hash = next === '#/login' ? '#/' : next;
      window.dispatchEvent(new CustomEvent('gs-signed-in'));
    } catch (err) {
      msg.className = 'msg msg-error';
      msg.textContent = err.status === 401 ? t('login.failed') : errorText(err.code, err.message);
      msg.hidden = false;
      pass.select();
    } finally {
      submit.disabled = false;
    }
  }
  root.append(
    h('h1', {}, t('login.title')),
    h('form', { class: 'setup-form', onsubmit: onSubmit },
      field('login-username', t('login.username'), user),
      field('login-password', t('login.password'), pass),
      msg,
      h('div', { class: 'actions' }, submit)),
    h('p', { class: 'muted' }, t('login.hint')),
  );
  user.focus();
}
