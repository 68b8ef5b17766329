// The lab's page: receive tubes by scanning, post results one by one, or
// upload a result sheet. The lab sees tube barcodes only; the API gives it
// no names or ID numbers and this page asks for none.

import { t, errorText, formatTime } from '../i18n.js';
import { h, replace, field, select } from '../dom.js';
import { api, post } from '../api.js';
import * as feedback from '../lib/feedback.js';

const OUTCOMES = ['negative', 'suspected', 'positive', 'invalid'];

// This session's work, kept across a language switch.
const received = [];
const posted = [];

/** A refusal: the catalogue's words, then the server's own detail, smaller. */
function failure(tube, e) {
  const base = errorText(e.code, e.message);
  return [h('strong', {}, tube ? `${tube}: ${base}` : base),
    e.message && base !== e.message ? h('small', { class: 'detail' }, e.message) : null];
}

export function mount(root) {
  // ----- receive -----
  const recvInput = h('input', { type: 'text', autocomplete: 'off', autocapitalize: 'characters', spellcheck: false, enterkeyhint: 'done', class: 'scan-input' });
  const recvOk = h('div', { id: 'receive-ok', class: 'msg msg-ok', role: 'status' });
  const recvErr = h('div', { id: 'receive-error', class: 'msg msg-error', role: 'alert' });
  const recvList = h('div', {});

  // ----- result -----
  const resTube = h('input', { type: 'text', autocomplete: 'off', autocapitalize: 'characters', spellcheck: false, required: true });
  const outcome = select(OUTCOMES.map((o) => [o, t(`outcome.${o}`)]), '', t('lab.outcome_auto'));
  const ctOrf = h('input', { type: 'number', inputmode: 'decimal', min: '0', max: '60', step: '0.01' });
  const ctN = h('input', { type: 'number', inputmode: 'decimal', min: '0', max: '60', step: '0.01' });
  const correction = h('input', { type: 'checkbox', id: 'result-correction' });
  const resOk = h('div', { id: 'result-ok', class: 'msg msg-ok', role: 'status' });
  const resErr = h('div', { id: 'result-error', class: 'msg msg-error', role: 'alert' });
  const resList = h('div', {});

  // ----- upload -----
  const file = h('input', { type: 'file', accept: '.csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' });
  const skipBad = h('input', { type: 'checkbox', id: 'upload-skip' });
  const upOut = h('div', { id: 'upload-result', 'aria-live': 'polite' });

  root.append(
    h('h1', {}, t('lab.title')),
    h('p', { class: 'muted' }, t('lab.privacy')),
    h('div', { class: 'columns' },
      h('section', { class: 'panel', 'aria-labelledby': 'receive-h' },
        h('h2', { id: 'receive-h' }, t('lab.receive')),
        h('form', { onsubmit: onReceive },
          h('div', { class: 'field' },
            h('label', { for: 'receive-input' }, t('lab.receive_input')),
            h('div', { class: 'inline' }, recvInput, h('button', { type: 'submit' }, t('lab.receive_button'))))),
        recvOk, recvErr, recvList),
      h('section', { class: 'panel', 'aria-labelledby': 'result-h' },
        h('h2', { id: 'result-h' }, t('lab.result')),
        h('form', { onsubmit: onResult, class: 'grid-form' },
          field('result-tube', t('lab.result_tube'), resTube),
          field('result-outcome', t('lab.outcome'), outcome),
          field('result-ct-orf1ab', t('lab.ct_orf1ab'), ctOrf, t('lab.ct_hint')),
          field('result-ct-n', t('lab.ct_n'), ctN, t('lab.ct_hint')),
          h('div', { class: 'check' }, correction, h('label', { for: 'result-correction' }, t('lab.correction'))),
          h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'result-submit' }, t('lab.result_button')))),
        resOk, resErr, resList)),
    h('section', { class: 'panel', 'aria-labelledby': 'upload-h' },
      h('h2', { id: 'upload-h' }, t('lab.upload')),
      h('form', { onsubmit: onUpload },
        field('upload-file', t('lab.upload_file'), file, t('lab.upload_hint')),
        h('div', { class: 'check' }, skipBad, h('label', { for: 'upload-skip' }, t('lab.skip_bad'))),
        h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'upload-submit' }, t('lab.upload_button')))),
      upOut),
  );
  recvInput.id = 'receive-input';

  function renderLists() {
    replace(recvList, h('h3', {}, t('lab.received_list')),
      received.length
        ? h('ul', { class: 'plain', id: 'received' }, [...received].reverse().map((r) =>
          h('li', {}, h('span', { class: 'barcode' }, r.tube), ' ', h('span', { class: 'muted' }, formatTime(r.at)))))
        : h('p', { class: 'muted' }, t('lab.none_received')));
    replace(resList, h('h3', {}, t('lab.results_list')),
      posted.length
        ? h('table', { id: 'results' },
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('common.tube')), h('th', { scope: 'col' }, t('lab.outcome')),
            h('th', { scope: 'col' }, 'ORF1ab'), h('th', { scope: 'col' }, 'N'), h('th', { scope: 'col' }, t('common.time')))),
          h('tbody', {}, [...posted].reverse().map((r) => h('tr', { class: `outcome-${r.outcome}` },
            h('td', { class: 'barcode' }, r.tube), h('td', {}, t(`outcome.${r.outcome}`), r.grey ? t('lab.grey_zone') : ''),
            h('td', {}, r.ct.orf1ab ?? '—'), h('td', {}, r.ct.n ?? '—'), h('td', {}, formatTime(r.at))))))
        : h('p', { class: 'muted' }, t('lab.none_results')));
  }

  async function onReceive(e) {
    e.preventDefault();
    const tube = recvInput.value.trim();
    recvInput.value = '';
    if (!tube) return;
    recvOk.textContent = '';
    recvErr.textContent = '';
    try {
      const res = await post('/api/v1/lab/receipts', { tubes: [tube] });
      for (const fx of res.effects) if (fx.event === 'tube_received') received.push({ tube: fx.tube, at: Date.now() });
      recvOk.textContent = t('lab.received', { tube });
      feedback.ok();
      if (!resTube.value) resTube.value = tube;
      renderLists();
    } catch (err) {
      feedback.warn();
      replace(recvErr, failure(tube, err));
    }
    recvInput.focus();
  }

  async function onResult(e) {
    e.preventDefault();
    resOk.textContent = '';
    resErr.textContent = '';
    const tube = resTube.value.trim();
    const ct = {};
    if (ctOrf.value !== '') ct.orf1ab = Number(ctOrf.value);
    if (ctN.value !== '') ct.n = Number(ctN.value);
    const body = { tube, ct, correction: correction.checked };
    if (outcome.value) body.outcome = outcome.value;
    try {
      const res = await post('/api/v1/results', body);
      const fx = res.effects.find((x) => x.event === 'tube_resulted');
      if (fx) {
        posted.push({ tube: fx.tube, outcome: fx.outcome, grey: fx.grey_zone, ct, at: Date.now() });
        resOk.textContent = t('lab.result_saved', { tube: fx.tube, outcome: t(`outcome.${fx.outcome}`) }) + (fx.grey_zone ? t('lab.grey_zone') : '');
      } else {
        resOk.textContent = t('lab.result_unchanged', { tube });
      }
      feedback.ok();
      resTube.value = '';
      ctOrf.value = '';
      ctN.value = '';
      outcome.value = '';
      correction.checked = false;
      renderLists();
      resTube.focus();
    } catch (err) {
      feedback.warn();
      replace(resErr, failure(tube, err));
      const target = { tube: resTube, 'ct.orf1ab': ctOrf, 'ct.n': ctN, outcome }[err.field];
      if (target) target.focus();
    }
  }

  async function onUpload(e) {
    e.preventDefault();
    const f = file.files && file.files[0];
    if (!f) {
      replace(upOut, h('p', { class: 'msg msg-error', role: 'alert' }, t('lab.upload_none')));
      return;
    }
    const type = f.type || (f.name.toLowerCase().endsWith('.xlsx')
      ? 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' : 'text/csv');
    try {
      const rep = await api('POST', `/api/v1/results/import?skip_bad_rows=${skipBad.checked}`, undefined,
        { raw: await f.arrayBuffer(), contentType: type });
      replace(upOut,
        h('p', { class: 'msg msg-ok', role: 'status' }, t('lab.upload_ok', { applied: rep.rows_applied, total: rep.rows_total })),
        rep.skipped_rows.length ? h('p', {}, t('lab.upload_skipped', { rows: rep.skipped_rows.join(', ') })) : null,
        rep.errors.length ? errorTable(rep.errors) : null);
      feedback.ok();
    } catch (err) {
      feedback.warn();
      const rows = err.details && err.details.errors;
      replace(upOut,
        h('p', { class: 'msg msg-error', role: 'alert' }, rows ? t('lab.upload_rejected') : failure('', err)),
        rows ? errorTable(rows) : null);
    }
  }

  function errorTable(rows) {
    return h('table', { id: 'upload-errors' },
      h('thead', {}, h('tr', {}, ['lab.row', 'lab.column', 'lab.value', 'lab.reason'].map((k) => h('th', { scope: 'col' }, t(k))))),
      h('tbody', {}, rows.map((r) => h('tr', {},
        h('td', {}, r.row), h('td', {}, r.column || ''), h('td', { class: 'barcode' }, r.value_masked || ''), h('td', {}, r.reason)))));
  }

  renderLists();
  recvInput.focus();
}
