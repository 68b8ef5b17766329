// The sampling-to-lab story through the web UI, in Debian's Chromium,
// against the real server: 20 people into a tube (one scanned twice, one
// with a wrong check digit: both refused on screen), 5 more offline into a
// second tube, back online and every scan on the server once, then the lab
// receives the tube and posts a suspect result, and uploads a sheet.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.js';
import { launch, shot, scan, signIn, waitText, watchErrors } from '../lib/browser.js';
import { importPeople, setupRound, chooseSetup, tube } from '../lib/fixture.js';
import { wrongCheck, withCheck } from '../lib/ids.js';

let server;
let browser;
let context;
let page;
let errors;
let ids;
let setup;
const TUBE_A = `GS-UI-A${Date.now() % 100000}`;
const TUBE_B = `GS-UI-B${Date.now() % 100000}`;
// On no roster: valid check digit, so only the server can refuse it.
const STRANGER = withCheck('41010519550505991');

before(async () => {
  server = await startServer();
  ids = await importPeople(server.url, 30);
  setup = await setupRound(server.url, '浏览器测试轮次');
  browser = await launch();
  context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN' });
  page = await context.newPage();
  errors = watchErrors(page);
  await signIn(page, server.url, 'sampler');
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

const queued = (p) => p.locator('#queue-count').getAttribute('data-count');

async function waitSynced(p, timeout = 15_000) {
  await p.waitForSelector('#queue-count[data-count="0"]', { timeout });
}

test('home page links the pages and switches language', async () => {
  await page.goto(`${server.url}/`);
  await waitText(page, 'h1', '选择工作');
  assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
  await shot(page, 'home-desktop');
  await page.click('#lang');
  await waitText(page, 'h1', 'Choose your work');
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  await page.click('#lang');
  await waitText(page, 'h1', '选择工作');
  const res = await fetch(`${server.url}/ui/nope.js`);
  assert.equal(res.status, 404);
});

test('sampler: 20 people into a tube, a duplicate and a bad check digit refused', async () => {
  await page.goto(`${server.url}/#/sampler`);
  await chooseSetup(page, setup);
  await waitText(page, '#scan-input-hint', '扫码枪');
  assert.match(await page.textContent('label[for="scan-input"]'), /采样管条码/);

  // An ID before any tube is refused.
  await scan(page, ids[0]);
  await waitText(page, '#scan-error', '请先扫描采样管条码');

  await scan(page, TUBE_A);
  await waitText(page, '#scan-ok', TUBE_A);
  assert.match(await page.textContent('label[for="scan-input"]'), /证件号/);

  for (let i = 0; i < 19; i++) {
    await scan(page, ids[i]);
    if (i === 4) {
      // The same person again: refused here, even before the server knows.
      await waitText(page, '#tube-count', '5/20');
      await scan(page, ids[4]);
      await waitText(page, '#scan-error', '重复');
      assert.ok(await page.isVisible('#scan-error'));
      await waitText(page, '#tube-count', '5/20');
    }
    if (i === 9) {
      await waitText(page, '#tube-count', '10/20');
      await scan(page, wrongCheck(ids[19]));
      await waitText(page, '#scan-error', '校验位错误');
      assert.ok(await page.isVisible('#scan-error'));
      await waitText(page, '#tube-count', '10/20');
    }
  }
  await waitText(page, '#tube-count', '19/20');
  await shot(page, 'sampler-desktop-scanning');
  await scan(page, ids[19]);
  // Full: sealed by itself, and the page asks for the next tube.
  await waitText(page, '#scan-ok', '管已满');
  await waitText(page, '#tube-count', '20/20');
  assert.match(await page.textContent('label[for="scan-input"]'), /采样管条码/);
  await waitSynced(page);

  const a = await tube(server.url, TUBE_A);
  assert.equal(a.status, 200);
  assert.equal(a.body.samples, 20);
  assert.equal(a.body.status, 'sealed');
  assert.deepEqual(errors, []);
});

test('sampler offline: 5 scans queue, sync once when the network returns', async () => {
  await context.setOffline(true);
  await waitText(page, '#online', '离线');
  await scan(page, TUBE_B);
  await waitText(page, '#scan-ok', TUBE_B);
  for (let i = 20; i < 25; i++) await scan(page, ids[i]);
  await waitText(page, '#tube-count', '5/20');
  // Valid on paper, unknown to the roster: only the server can refuse it.
  await scan(page, STRANGER);
  await waitText(page, '#tube-count', '6/20');
  await page.waitForSelector('#queue-count[data-count="7"]');
  assert.equal(await page.locator('#queue li').count(), 7);
  await shot(page, 'sampler-desktop-offline');

  // Nothing reached the server while offline.
  assert.equal((await tube(server.url, TUBE_B)).status, 404);

  await context.setOffline(false);
  await waitSynced(page);
  await waitText(page, '#online', '在线');
  // The refusal is shown on the scan it concerns, and in the list.
  await page.waitForSelector('#scans li[data-status="rejected"]');
  const rejected = page.locator('#scans li[data-status="rejected"]');
  assert.equal(await rejected.count(), 1);
  assert.match(await rejected.textContent(), /名册中没有此证件号/);
  assert.match(await rejected.textContent(), /410105\*{8}/);
  await waitText(page, '#rejections', '名册中没有此证件号');
  await waitText(page, '#scan-error', '服务器拒绝');
  await waitText(page, '#tube-count', '5/20');

  let b = await tube(server.url, TUBE_B);
  assert.equal(b.status, 200);
  assert.equal(b.body.samples, 5);
  assert.equal(b.body.status, 'open');

  // Seal by the button.
  await page.click('#seal');
  await waitText(page, '#scan-ok', '已封管');
  await waitSynced(page);
  b = await tube(server.url, TUBE_B);
  assert.equal(b.body.status, 'sealed');
  assert.equal(b.body.samples, 5);

  // A reload resends nothing twice: counts stay.
  await page.reload();
  await page.waitForSelector('#queue-count[data-count="0"]');
  await page.click('#sync-now');
  await waitSynced(page);
  assert.equal((await tube(server.url, TUBE_A)).body.samples, 20);
  assert.equal((await tube(server.url, TUBE_B)).body.samples, 5);
  // The full ID numbers never appear on screen.
  const text = await page.textContent('body');
  for (const id of ids.slice(0, 25)) assert.ok(!text.includes(id), `${id} shown unmasked`);
  await shot(page, 'sampler-desktop-synced');
  assert.deepEqual(errors, []);
});

test('lab: receive by scanning, post a suspect result, upload a sheet', async () => {
  await page.click('#logout');
  await signIn(page, server.url, 'lab');
  await page.goto(`${server.url}/#/lab`);
  await waitText(page, 'h1', '检测机构');

  // Not sealed yet? Unknown? The server's refusal is shown.
  await scan(page, 'GS-NOSUCH-1', '#receive-input');
  await waitText(page, '#receive-error', '没有这支采样管');

  await scan(page, TUBE_A, '#receive-input');
  await waitText(page, '#receive-ok', TUBE_A);
  await waitText(page, '#received', TUBE_A);
  assert.equal(await page.inputValue('#result-tube'), TUBE_A);
  await page.selectOption('#result-outcome', 'suspected');
  await page.fill('#result-ct-orf1ab', '33.5');
  await page.fill('#result-ct-n', '34.2');
  await page.click('#result-submit');
  await waitText(page, '#result-ok', '疑似阳性');
  await waitText(page, '#results', TUBE_A);

  const a = await tube(server.url, TUBE_A);
  assert.equal(a.body.status, 'resulted');
  assert.equal(a.body.results.length, 1);
  assert.equal(a.body.results[0].outcome, 'suspected');
  assert.deepEqual(a.body.results[0].ct, { orf1ab: 33.5, n: 34.2 });

  // A different result without "correction" is refused, on screen.
  await page.fill('#result-tube', TUBE_A);
  await page.selectOption('#result-outcome', 'negative');
  await page.click('#result-submit');
  await waitText(page, '#result-error', '更正');

  // Upload: a sheet with a bad row is refused whole, with the row named.
  await scan(page, TUBE_B, '#receive-input');
  await waitText(page, '#receive-ok', TUBE_B);
  const bad = `管号,结果,ORF1ab,N\n${TUBE_B},阴性,,\nGS-NOSUCH-2,阴性,,\n`;
  await page.setInputFiles('#upload-file', { name: 'results.csv', mimeType: 'text/csv', buffer: Buffer.from(bad) });
  await page.click('#upload-submit');
  await waitText(page, '#upload-result', '未导入任何行');
  await page.waitForSelector('#upload-errors tbody tr');
  assert.equal(await page.locator('#upload-errors tbody tr').count(), 1);
  assert.equal((await page.textContent('#upload-errors tbody tr td')).trim(), '3');
  assert.equal((await tube(server.url, TUBE_B)).body.status, 'received');
  await shot(page, 'lab-desktop-upload-errors');

  const good = `管号,结果,ORF1ab,N\n${TUBE_B},阴性,,\n`;
  await page.setInputFiles('#upload-file', { name: 'results.csv', mimeType: 'text/csv', buffer: Buffer.from(good) });
  await page.click('#upload-submit');
  await waitText(page, '#upload-result', '已导入 1/1 行');
  const b = await tube(server.url, TUBE_B);
  assert.equal(b.body.status, 'resulted');
  assert.equal(b.body.results[0].outcome, 'negative');

  // The lab never sees a name or an ID number.
  const text = await page.textContent('body');
  assert.ok(!/测试居民/.test(text));
  for (const id of ids) assert.ok(!text.includes(id.slice(0, 6) + '*') && !text.includes(id));
  await shot(page, 'lab-desktop');

  await page.click('#lang');
  await waitText(page, 'h1', 'Lab');
  await waitText(page, '#results', 'suspected');
  await shot(page, 'lab-desktop-en');
  await page.click('#lang');
  await waitText(page, 'h1', '检测机构');
  assert.deepEqual(errors, []);
});
