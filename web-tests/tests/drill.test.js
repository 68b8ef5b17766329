// The 6·13 drill as the pages show it: `gridsweep demo` replays the story
// into the database, then district command opens the closed incident, its
// timeline from the 03:04 alert to the 16:54 all-clear, and its report —
// on a desktop and on a phone.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, call } from '../lib/server.js';
import { launch, shot, signIn, waitText, watchErrors } from '../lib/browser.js';

let server;
let browser;
let incident;

before(async () => {
  server = await startServer({ drill: true });
  browser = await launch();
  const list = await call(server.url, 'GET', '/api/v1/incidents');
  assert.equal(list.status, 200);
  incident = list.body.find((i) => i.trigger_tube);
  assert.ok(incident, JSON.stringify(list.body));
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

for (const [name, viewport] of [['desktop', { width: 1280, height: 900 }], ['phone', { width: 375, height: 812 }]]) {
  test(`the drill's incident and report (${name})`, async () => {
    const context = await browser.newContext({ viewport, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
    const page = await context.newPage();
    const errors = watchErrors(page);
    await signIn(page, server.url, 'command');
    await page.goto(`${server.url}/#/dashboard`);
    await waitText(page, '#closed', '瓦屋李');
    await page.goto(`${server.url}/#/incident/${incident.id}`);
    await page.waitForSelector('#incident-status[data-status="closed"]');
    // The story's milestones on the time axis: the alert at 03:04, the
    // all-clear at 16:54 (the page shows the district's own clock).
    await page.waitForSelector('.timeline-chart .milestone');
    const milestones = await page.locator('.timeline-chart .milestone').allTextContents();
    assert.ok(milestones.some((m) => m.includes('03:04')), milestones.join(' | '));
    assert.ok(milestones.some((m) => m.includes('16:54')), milestones.join(' | '));
    await waitText(page, '#decisions', '解除管控并结案');
    await waitText(page, '#decisions', '居家隔离');
    assert.equal(await page.locator('#decisions .confirm-decision').count(), 0);
    await shot(page, `drill-incident-${name}`);
    await page.goto(`${server.url}/#/report/${incident.id}`);
    const frame = page.frameLocator('#report-frame');
    await frame.locator('h1').first().waitFor();
    const text = await frame.locator('body').textContent();
    assert.match(text, /6,?799/);
    assert.match(text, /13 h 50 m/);
    await shot(page, `drill-report-${name}`);
    assert.deepEqual(errors, []);
    await context.close();
  });
}
