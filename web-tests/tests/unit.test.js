// The page's own modules, run in Node: the message catalogue is complete
// in both languages, and the ID checks agree with the server's examples.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { messages } from '../../crates/server/ui/i18n.js';
import { checkResidentId, readPersonScan, mask, isBarcode } from '../../crates/server/ui/lib/idcheck.js';
import { testId, wrongCheck } from '../lib/ids.js';

const ui = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'crates', 'server', 'ui');

test('every message exists in Chinese and English', () => {
  const zh = Object.keys(messages.zh).sort();
  const en = Object.keys(messages.en).sort();
  assert.deepEqual(zh, en);
  for (const l of ['zh', 'en']) {
    for (const [k, v] of Object.entries(messages[l])) {
      assert.ok(v.trim(), `${l}.${k} is empty`);
      const p1 = (messages.zh[k].match(/\{\w+\}/g) || []).sort();
      const p2 = (messages.en[k].match(/\{\w+\}/g) || []).sort();
      assert.deepEqual(p1, p2, `${k}: parameters differ between languages`);
    }
  }
});

function files(dir) {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

test('no Chinese text outside the catalogue, every t() key exists', () => {
  for (const f of files(ui).filter((p) => p.endsWith('.js') && !p.endsWith('i18n.js'))) {
    const src = readFileSync(f, 'utf8').replace(/^\s*\/\/.*$/gm, '');
    assert.ok(!/[\u4e00-\u9fff]/.test(src), `${f} has Chinese text outside the catalogue`);
    for (const [, key] of src.matchAll(/\bt\('([\w.]+)'/g)) {
      assert.ok(key in messages.zh, `${f} uses unknown message ${key}`);
    }
  }
});

test('resident ID check digit (GB 11643)', () => {
  // From examples/roster-example.csv, which the server imports.
  const csv = readFileSync(resolve(ui, '..', '..', '..', 'examples', 'roster-example.csv'), 'utf8');
  const good = [...csv.matchAll(/\b(\d{17}[\dX])\b/g)].map((m) => m[1]);
  assert.ok(good.length >= 5);
  for (const id of good) assert.deepEqual(checkResidentId(id), { ok: true, number: id });
  for (let i = 0; i < 50; i++) {
    const id = testId(i);
    assert.equal(checkResidentId(id).ok, true, id);
    const bad = checkResidentId(wrongCheck(id));
    assert.equal(bad.reason, 'id.check');
    assert.equal(bad.params.expected, id[17]);
  }
  assert.equal(checkResidentId('41010519900101002').reason, 'id.length');
  assert.equal(checkResidentId('99010519900101002X').reason, 'id.region');
  assert.equal(checkResidentId('410105199002300020').reason, 'id.birth');
  assert.equal(checkResidentId(`${good[0].slice(0, 17).toLowerCase()}`).reason, 'id.length');
});

test('health codes, other documents, masking, barcodes', () => {
  const id = testId(3);
  assert.deepEqual(readPersonScan(`GSHC1|resident_id|${id}`),
    { ok: true, kind: 'resident_id', number: id, qr: `GSHC1|resident_id|${id}` });
  assert.equal(readPersonScan(`GSHC1|resident_id|${wrongCheck(id)}`).reason, 'id.check');
  assert.equal(readPersonScan('GSHC1|nope|123').reason, 'id.qr');
  assert.equal(readPersonScan('E12345678', 'passport').ok, true);
  assert.equal(readPersonScan('E1', 'passport').reason, 'id.other');
  assert.equal(mask('resident_id', id), `${id.slice(0, 6)}********${id.slice(14)}`);
  assert.ok(isBarcode('GS-000123'));
  assert.ok(!isBarcode('GS 0001'));
  assert.ok(!isBarcode('管-0001'));
});
