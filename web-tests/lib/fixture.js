// What the tests need on the server before the browser starts: test people
// on the roster (imported over HTTP, so the test knows their full ID
// numbers without reading them back), the community's ids, a site, a round.

import assert from 'node:assert/strict';
import { call } from './server.js';
import { testId } from './ids.js';

/** Imports `n` people (ids testId(0..n-1)) into 瓦屋李新居, building 1. */
export async function importPeople(url, n) {
  const rows = ['姓名,身份证号,街道,社区,小区,楼栋,单元,房号'];
  const ids = [];
  for (let i = 0; i < n; i++) {
    const id = testId(i);
    ids.push(id);
    rows.push(`测试居民${i},${id},梧桐街办事处,瓦屋李社区,瓦屋李新居,1号楼,${1 + (i % 3)}单元,${101 + i}`);
  }
  const r = await call(url, 'POST', '/api/v1/residents/import', `${rows.join('\n')}\n`, { 'Content-Type': 'text/csv' });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return ids;
}

async function child(url, parent, name) {
  const r = await call(url, 'GET', `/api/v1/areas/${parent}/children`);
  assert.equal(r.status, 200);
  const a = r.body.find((x) => x.name === name);
  assert.ok(a, `no ${name} under ${parent}: ${r.body.map((x) => x.name).join(', ')}`);
  return a.id;
}

/** District, sub-district and community ids of 瓦屋李社区, a site there, and a fresh 20:1 round. */
export async function setupRound(url, name) {
  const roots = await call(url, 'GET', '/api/v1/areas');
  assert.equal(roots.status, 200);
  const district = roots.body[0].id;
  const sub = await child(url, district, '梧桐街办事处');
  const community = await child(url, sub, '瓦屋李社区');
  const sites = await call(url, 'GET', `/api/v1/sites?area=${community}`);
  assert.equal(sites.status, 200);
  assert.ok(sites.body.length > 0, 'the demo community has a sampling site');
  const now = Date.now();
  const round = await call(url, 'POST', '/api/v1/rounds', {
    name,
    pool_size: 20,
    starts_at: new Date(now - 3_600_000).toISOString(),
    ends_at: new Date(now + 86_400_000).toISOString(),
    areas: [community],
  });
  assert.equal(round.status, 201, JSON.stringify(round.body));
  // The demo sampler works in 瓦屋李社区: its area picker starts there.
  return { areas: [community], district, sub, site: sites.body[0], round: round.body };
}

/** Picks round, areas and site on the sampler page and starts. */
export async function chooseSetup(page, { areas, site, round }) {
  await page.waitForSelector(`#setup-round option[value="${round.id}"]`, { state: 'attached' });
  await page.selectOption('#setup-round', String(round.id));
  for (let i = 0; i < areas.length; i++) {
    const sel = `#setup-area-${i + 1}`;
    await page.waitForSelector(`${sel} option[value="${areas[i]}"]`, { state: 'attached' });
    await page.selectOption(sel, String(areas[i]));
  }
  await page.waitForSelector(`#setup-site option[value="${site.id}"]`, { state: 'attached' });
  await page.selectOption('#setup-site', String(site.id));
  await page.click('#setup-start');
  await page.waitForSelector('#scan-input:visible');
}

/** The tube as the server has it (status code and body). */
export async function tube(url, barcode) {
  return call(url, 'GET', `/api/v1/tubes/${encodeURIComponent(barcode)}`);
}

/** Samples `documents` into a new tube `barcode` of `round` at `site` and
 * brings back `outcome`, over the API as the demo sampler and lab. */
export async function sampleAndResult(url, site, round, barcode, documents, outcome) {
  const as = (who, method, path, body) => call(url, method, path, body, {}, who);
  let r = await as('sampler', 'POST', '/api/v1/tubes', { tube: barcode, round, site });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  for (const document of documents) {
    r = await as('sampler', 'POST', `/api/v1/tubes/${barcode}/samples`, { document });
    assert.equal(r.status, 201, JSON.stringify(r.body));
  }
  r = await as('sampler', 'POST', `/api/v1/tubes/${barcode}/seal`, {});
  assert.equal(r.status, 200, JSON.stringify(r.body));
  r = await as('lab', 'POST', '/api/v1/lab/receipts', { tubes: [barcode] });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  r = await as('lab', 'POST', '/api/v1/results', { tube: barcode, outcome });
  assert.equal(r.status, 200, JSON.stringify(r.body));
}
