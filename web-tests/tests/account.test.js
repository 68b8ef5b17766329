// The first start on an empty database: the admin's one-time password,
// printed once, opens only the page that replaces it; after the change the
// account works, on a desktop and on a phone.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.js';
import { launch, shot, waitText, watchErrors } from '../lib/browser.js';

let server;
let browser;
let oneTime;

before(async () => {
  server = await startServer({ demo: false });
  const m = server.stdout().match(/one-time password (\S+)/);
  assert.ok(m, server.stdout());
  oneTime = m[1];
  browser = await launch();
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

async function signIn(page, password) {
  await page.goto(`${server.url}/#/login`);
  await page.fill('#login-username', 'admin');
  await page.fill('#login-password', password);
  await page.click('#login-submit');
}

test('a one-time admin password must be replaced first', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'zh-CN' });
  const page = await context.newPage();
  const errors = watchErrors(page);
  await signIn(page, oneTime);
  await page.waitForSelector('#password-required');
  assert.equal(await page.evaluate(() => location.hash), '#/password');
  // Any other page leads back here; the API refuses everything else.
  await page.goto(`${server.url}/#/reports`);
  await page.waitForFunction(() => location.hash === '#/password');
  const refused = await page.evaluate(async () => (await fetch('/api/v1/users')).status);
  assert.equal(refused, 403);
  await shot(page, 'password-desktop');

  await page.fill('#password-current', oneTime);
  await page.fill('#password-new', 'a-long-new-password');
  await page.fill('#password-again', 'a-long-new-passwort');
  await page.click('#password-submit');
  await waitText(page, '#password-msg', '不一致');
  await page.fill('#password-current', 'not-the-password');
  await page.fill('#password-again', 'a-long-new-password');
  await page.click('#password-submit');
  await waitText(page, '#password-msg', '当前密码不正确');
  await page.fill('#password-current', oneTime);
  await page.fill('#password-new', 'a-long-new-password');
  await page.fill('#password-again', 'a-long-new-password');
  await page.click('#password-submit');
  await waitText(page, '#password-msg', '密码已修改');
  await page.waitForFunction(() => location.hash === '#/');
  const allowed = await page.evaluate(async () => (await fetch('/api/v1/users')).status);
  assert.equal(allowed, 200);
  assert.deepEqual(errors, []);
  await context.close();

  // The printed password no longer works; the new one does (on a phone).
  const phone = await browser.newContext({
    viewport: { width: 375, height: 812 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'zh-CN',
  });
  const p = await phone.newPage();
  await signIn(p, oneTime);
  await waitText(p, '[role="alert"]', '用户名或密码不正确');
  await signIn(p, 'a-long-new-password');
  await p.waitForSelector('#whoami');
  await p.goto(`${server.url}/#/password`);
  await p.waitForSelector('#password-current');
  assert.equal(await p.locator('#password-required').count(), 0);
  assert.ok(!/\bnull\b|undefined/.test(await p.textContent('main')), await p.textContent('main'));
  const w = await p.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
  assert.ok(w[0] <= w[1], `page is ${w[0]}px wide on a ${w[1]}px screen`);
  await shot(p, 'password-phone');
  await phone.close();
});
