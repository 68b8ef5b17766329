// The sampler page on a 375×812 phone: nothing wider than the screen,
// scanning works with the on-screen field, and a queue left offline in a
// closed tab is sent by the next visit (it lives in IndexedDB).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, call } from '../lib/server.js';
import { launch, shot, scan, signIn, waitText, watchErrors } from '../lib/browser.js';
import { importPeople, setupRound, chooseSetup, tube, sampleAndResult } from '../lib/fixture.js';

let server;
let browser;
let ids;
let setup;
const TUBE = `GS-PH-${Date.now() % 100000}`;

before(async () => {
  server = await startServer();
  ids = await importPeople(server.url, 8);
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

test('every page on a phone: dashboard, incident, grid worker, reports', async () => {
  // An incident to look at: a suspect tube of two people.
  await sampleAndResult(server.url, setup.site.id, setup.round.id, `GS-PH-S${Date.now() % 100000}`, [ids[6], ids[7]], 'suspected');
  const incidents = await call(server.url, 'GET', '/api/v1/incidents');
  const id = incidents.body[0].id;
  const phone = {
    viewport: { width: 375, height: 812 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'zh-CN',
  };
  const context = await browser.newContext(phone);
  const page = await context.newPage();
  const errors = watchErrors(page);
  await signIn(page, server.url, 'command');
  await page.goto(`${server.url}/#/dashboard`);
  await page.waitForSelector(`.incident-card[data-id="${id}"] .retested`);
  await page.waitForSelector('#live-state[data-state="connected"]');
  await fitsWidth(page);
  await shot(page, 'dashboard-phone');
  await page.click('#lang');
  await waitText(page, 'h1', 'Command dashboard');
  await page.waitForSelector(`.incident-card[data-id="${id}"] .retested`);
  await fitsWidth(page);
  await shot(page, 'dashboard-phone-en');
  await page.click('#lang');
  await waitText(page, 'h1', '指挥大屏');

  await page.goto(`${server.url}/#/incident/${id}`);
  await page.waitForSelector('#incident-status');
  await page.waitForSelector('.timeline-chart');
  await fitsWidth(page);
  await shot(page, 'incident-phone');
  await page.goto(`${server.url}/#/reports`);
  await page.waitForSelector(`#reports li[data-id="${id}"]`);
  await fitsWidth(page);
  await shot(page, 'reports-phone');
  await page.goto(`${server.url}/#/report/${id}`);
  await page.frameLocator('#report-frame').locator('h1').first().waitFor();
  await fitsWidth(page);
  await shot(page, 'report-phone');
  assert.deepEqual(errors, []);
  await context.close();

  const gridContext = await browser.newContext(phone);
  const grid = await gridContext.newPage();
  const gridErrors = watchErrors(grid);
  await signIn(grid, server.url, 'grid1');
  await grid.goto(`${server.url}/#/grid`);
  await grid.waitForSelector('.missing');
  await grid.waitForSelector('#grid-tasks .task');
  await fitsWidth(grid);
  await shot(grid, 'grid-phone');
  assert.deepEqual(gridErrors, []);
  await gridContext.close();
});
