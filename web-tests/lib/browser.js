// Debian's Chromium driven by playwright-core (no browser is downloaded).

import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SCREENSHOTS = process.env.GRIDSWEEP_SCREENSHOTS
  || resolve(dirname(fileURLToPath(import.meta.url)), '..', 'screenshots');

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

export async function shot(page, name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Collects page errors so a test can assert there were none. */
export function watchErrors(page) {
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  // Failed requests (offline, or a 4xx the page shows) are part of the
  // story; anything else logged as an error is a bug.
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(m.text());
  });
  return errors;
}

/** Waits until `selector`'s text contains `text` (or the timeout). */
export async function waitText(page, selector, text, timeout = 10_000) {
  await page.waitForFunction(([s, t]) => {
    const el = document.querySelector(s);
    return el && el.textContent.includes(t);
  }, [selector, text], { timeout }).catch(async (e) => {
    const got = await page.locator(selector).first().textContent().catch(() => '(missing)');
    throw new Error(`${selector} never contained ${JSON.stringify(text)}; it says ${JSON.stringify(got)}\n${e.message}`);
  });
}

/** What a keyboard-wedge scanner does: types the code, then Enter. */
export async function scan(page, code, input = '#scan-input') {
  await page.focus(input);
  await page.keyboard.type(code, { delay: 2 });
  await page.keyboard.press('Enter');
}

/** Signs in through the login page as a demo account (password in the README). */
export async function signIn(page, base, username) {
  await page.goto(`${base}/#/login`);
  await page.waitForSelector('#login-username');
  await page.fill('#login-username', username);
  await page.fill('#login-password', 'gridsweep-demo');
  await page.click('#login-submit');
  await page.waitForFunction(() => !location.hash.startsWith('#/login'), null, { timeout: 10_000 });
  await page.waitForSelector('#whoami');
}
