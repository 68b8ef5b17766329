// Starts the real gridsweep binary on a fresh SQLite file with the demo
// district, and talks to its API over HTTP.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..');

/** The binary: $GRIDSWEEP_BIN, else the debug build under $CARGO_TARGET_DIR or target/. */
export function binaryPath() {
  if (process.env.GRIDSWEEP_BIN) return process.env.GRIDSWEEP_BIN;
  const target = process.env.CARGO_TARGET_DIR || join(repo, 'target');
  for (const p of [join(target, 'debug', 'gridsweep'), join(target, 'release', 'gridsweep')]) {
    if (existsSync(p)) return p;
  }
  throw new Error(`no gridsweep binary under ${target}; build it (cargo build -p gridsweep) or set GRIDSWEEP_BIN`);
}

/** Starts `serve --demo` on a fresh database; `{ drill: true }` first
 * replays the 6·13 drill into it (`gridsweep demo`), so the pages show a
 * whole incident from alert to all-clear; `{ playbook: 'TOML' }` serves
 * with that playbook. */
export async function startServer({ drill = false, demo = true, playbook = null } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'gridsweep-web-'));
  const db = `sqlite://${join(dir, 'gs.db')}`;
  const playbookArgs = [];
  if (playbook !== null) {
    const file = join(dir, 'playbook.toml');
    writeFileSync(file, playbook);
    playbookArgs.push('--playbook', file);
  }
  if (drill) {
    const r = spawnSync(binaryPath(), ['--database-url', db, 'demo'], { encoding: 'utf8', timeout: 300_000 });
    if (r.status !== 0) throw new Error(`gridsweep demo failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  }
  const args = ['serve', ...(demo ? ['--demo'] : []), ...playbookArgs, '--addr', '127.0.0.1:0', '--database-url', db];
  const proc = spawn(binaryPath(), args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'warn' },
  });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  let out = '';
  const url = await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`server did not start in 120 s\n${out}\n${stderr}`)), 120_000);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/serving on (http:\/\/[^\s/]+)\//);
      if (m) {
        clearTimeout(timer);
        ok(m[1]);
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`server exited with ${code}\n${out}\n${stderr}`));
    });
  });
  return {
    url,
    /** What the server printed on stdout (the first start's one-time password). */
    stdout: () => out,
    async stop() {
      if (proc.exitCode === null) {
        const gone = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    },
    stderr: () => stderr,
  };
}

/** The demo accounts' password (README). */
export const DEMO_PASSWORD = 'gridsweep-demo';

const sessions = new Map();

/** Signs in over HTTP as a demo account; returns the cookie and CSRF token. */
export async function session(base, username = 'command') {
  const key = `${base} ${username}`;
  if (!sessions.has(key)) {
    const res = await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username, password: DEMO_PASSWORD }),
    });
    if (res.status !== 200) throw new Error(`login as ${username}: ${res.status} ${await res.text()}`);
    const body = await res.json();
    const cookie = (res.headers.get('set-cookie') || '').split(';')[0];
    sessions.set(key, { cookie, csrf: body.csrf_token });
  }
  return sessions.get(key);
}

/** A JSON API call as district command (`as` names another demo
 * account); returns `{ status, body }`. */
export async function call(base, method, path, body, headers = {}, as = 'command') {
  const s = await session(base, as);
  const init = { method, headers: { Cookie: s.cookie, ...headers } };
  if (method !== 'GET') init.headers['X-CSRF-Token'] = s.csrf;
  if (body !== undefined) {
    if (typeof body === 'string' || body instanceof Uint8Array) {
      init.body = body;
    } else {
      init.body = JSON.stringify(body);
      init.headers['Content-Type'] = 'application/json';
    }
  }
  const res = await fetch(base + path, init);
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}
