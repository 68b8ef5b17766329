// The sampler page on a 375×812 phone: nothing wider than the screen,
// scanning works with the on-screen field, and a queue left offline in a
// closed tab is sent by the next visit (it lives in IndexedDB).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.js';
import { launch, shot, scan, signIn, waitText, watchErrors } from '../lib/browser.js';
import { importPeople, setupRound, chooseSetup, tube } from '../lib/fixture.js';

let server;
let browser;
let ids;
let setup;
const TUBE = `GS-PH-${Date.now() % 100000}`;

before(async () => {
  server = await startServer();
  ids = await importPeople(server.url, 6);
  setup = await setupRound(server.url, '手机测试轮次');
  browser = await launch();
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

async function fitsWidth(page) {
  const w = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    client: document.documentElement.clientWidth,
  }));
  assert.ok(w.scroll <= w.client, `page is ${w.scroll}px wide on a ${w.client}px screen`);
}

test('sampler on a phone, offline queue survives closing the tab', async () => {
  const context = await browser.newContext({
    viewport: { width: 375, height: 812 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'zh-CN',
  });
  let page = await context.newPage();
  const errors = watchErrors(page);
  await signIn(page, server.url, 'sampler');
  await page.goto(`${server.url}/#/sampler`);
  await waitText(page, 'h1', '采样');
  await fitsWidth(page);
  await shot(page, 'sampler-phone-setup');
  await chooseSetup(page, setup);
  await scan(page, TUBE);
  await waitText(page, '#scan-ok', TUBE);
  await scan(page, ids[0]);
  await scan(page, ids[1]);
  await waitText(page, '#tube-count', '2/20');
  await scan(page, ids[1]);
  await waitText(page, '#scan-error', '重复');
  await page.waitForSelector('#queue-count[data-count="0"]', { timeout: 15_000 });
  await fitsWidth(page);
  await shot(page, 'sampler-phone');

  // Offline: two more, then the tab is closed before the network returns.
  await context.setOffline(true);
  await waitText(page, '#online', '离线');
  await scan(page, ids[2]);
  await scan(page, ids[3]);
  await page.waitForSelector('#queue-count[data-count="2"]');
  await shot(page, 'sampler-phone-offline');
  assert.equal((await tube(server.url, TUBE)).body.samples, 2);
  // Reloading with no network still brings the page and its queue back
  // (the service worker keeps the page; IndexedDB keeps the queue).
  await page.reload();
  await waitText(page, 'h1', '采样');
  await page.waitForSelector('#queue-count[data-count="2"]');
  await waitText(page, '#tube-count', '4/20');
  await page.close();
  await context.setOffline(false);

  page = await context.newPage();
  errors.push(...watchErrors(page));
  await page.goto(`${server.url}/#/sampler`);
  await page.waitForSelector('#queue-count[data-count="0"]', { timeout: 15_000 });
  await waitText(page, '#tube-count', '4/20');
  const t = await tube(server.url, TUBE);
  assert.equal(t.body.samples, 4);
  assert.equal(t.body.status, 'open');

  await page.click('#seal');
  await waitText(page, '#scan-ok', '已封管');
  await page.waitForSelector('#queue-count[data-count="0"]', { timeout: 15_000 });
  assert.equal((await tube(server.url, TUBE)).body.status, 'sealed');

  await page.click('#lang');
  await waitText(page, 'h1', 'Sampling');
  await fitsWidth(page);
  await shot(page, 'sampler-phone-en');
  await page.click('#lang');

  await page.goto(`${server.url}/#/lab`);
  await waitText(page, 'h1', '检测机构');
  await fitsWidth(page);
  await shot(page, 'lab-phone');
  await page.goto(`${server.url}/`);
  await waitText(page, 'h1', '选择工作');
  await fitsWidth(page);
  await shot(page, 'home-phone');
  assert.deepEqual(errors, []);
  await context.close();
});
