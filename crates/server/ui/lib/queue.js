// The device's offline queue (docs/device-sync.md), kept in IndexedDB.
//
// The device id is generated once and stored beside the sequence counter,
// so both survive reloads and both go if the browser's data is cleared (a
// "reinstalled device" then takes a new id, as the protocol requires).
// A sequence number is taken and the event stored in ONE transaction: an
// event, once queued, keeps its number for ever and is resent with it until
// the server answers for it; the server applies each (device, seq) once.

const DB_NAME = 'gridsweep';
const DB_VERSION = 1;
let dbPromise = null;

function req(r) {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

function done(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error('transaction aborted'));
  });
}

/** The database: `meta` (key → value), `events` (by seq), `cache` (GET answers). */
export function db() {
  if (!dbPromise) {
    dbPromise = new Promise((resolve, reject) => {
      const open = indexedDB.open(DB_NAME, DB_VERSION);
      open.onupgradeneeded = () => {
        const d = open.result;
        d.createObjectStore('meta');
        const ev = d.createObjectStore('events', { keyPath: 'seq' });
        ev.createIndex('status', 'status');
        d.createObjectStore('cache');
      };
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
  }
  return dbPromise;
}

/** A value of the `meta` store. */
export async function getMeta(key) {
  const d = await db();
  return req(d.transaction('meta').objectStore('meta').get(key));
}

/** Sets a value of the `meta` store. */
export async function setMeta(key, value) {
  const d = await db();
  const tx = d.transaction('meta', 'readwrite');
  tx.objectStore('meta').put(value, key);
  return done(tx);
}

function randomId() {
  const b = new Uint8Array(8);
  crypto.getRandomValues(b);
  return `web-${Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')}`;
}

/** This device's id, generated on first use. */
export async function deviceId() {
  const d = await db();
  const tx = d.transaction('meta', 'readwrite');
  const meta = tx.objectStore('meta');
  let id = await req(meta.get('device'));
  if (!id) {
    id = randomId();
    meta.put(id, 'device');
  }
  await done(tx);
  return id;
}

/**
 * Queues one event: takes the next sequence number and stores the event
 * with it atomically. `label` is what the screen shows for it (never the
 * full ID number). Returns the stored record.
 */
export async function enqueue(payload, label) {
  const d = await db();
  const tx = d.transaction(['meta', 'events'], 'readwrite');
  const meta = tx.objectStore('meta');
  const seq = (await req(meta.get('next_seq'))) || 1;
  meta.put(seq + 1, 'next_seq');
  const record = {
    seq,
    event: { seq, at: new Date().toISOString(), ...payload },
    status: 'queued',
    label,
  };
  tx.objectStore('events').put(record);
  await done(tx);
  return record;
}

/** Every stored event record, by sequence number. */
export async function allEvents() {
  const d = await db();
  return req(d.transaction('events').objectStore('events').getAll());
}

/** Records the server has not answered for yet (queued or pending), in order. */
export async function unanswered(limit = 500) {
  const all = await allEvents();
  return all.filter((r) => r.status === 'queued' || r.status === 'pending').slice(0, limit);
}

/**
 * Stores the server's answer. Accepted events drop their payload (the full
 * ID number is no longer needed on the device); rejected ones keep only the
 * code and message, shown beside the scan they concern.
 */
export async function applyReport(report) {
  const d = await db();
  const tx = d.transaction('events', 'readwrite');
  const store = tx.objectStore('events');
  const changed = [];
  const update = async (seq, f) => {
    const r = await req(store.get(seq));
    if (!r) return;
    f(r);
    store.put(r);
    changed.push(r);
  };
  for (const seq of report.accepted || []) {
    await update(seq, (r) => {
      r.status = 'accepted';
      r.event = null;
    });
  }
  for (const rej of report.rejected || []) {
    await update(rej.seq, (r) => {
      r.status = 'rejected';
      r.code = rej.code;
      r.message = rej.message;
      r.event = null;
    });
  }
  for (const seq of report.pending || []) {
    await update(seq, (r) => {
      r.status = 'pending';
    });
  }
  await done(tx);
  return changed;
}

/** Forgets answered events beyond the newest `keep` (rejections are kept). */
export async function prune(keep = 200) {
  const all = await allEvents();
  const accepted = all.filter((r) => r.status === 'accepted');
  if (accepted.length <= keep) return;
  const d = await db();
  const tx = d.transaction('events', 'readwrite');
  for (const r of accepted.slice(0, accepted.length - keep)) tx.objectStore('events').delete(r.seq);
  await done(tx);
}

/** A cached GET: the live answer when the server is reachable (and saved),
 * else the last saved one. Returns `{ data, cached }`. */
export async function cachedGet(path, fetchJson) {
  try {
    const data = await fetchJson(path);
    const d = await db();
    const tx = d.transaction('cache', 'readwrite');
    tx.objectStore('cache').put(data, path);
    await done(tx);
    return { data, cached: false };
  } catch (e) {
    if (e.code !== 'network') throw e;
    const d = await db();
    const data = await req(d.transaction('cache').objectStore('cache').get(path));
    if (data === undefined) throw e;
    return { data, cached: true };
  }
}

/**
 * Sends everything unanswered to `POST /api/v1/sync`, in batches, until the
 * queue is empty or the network fails. One sync runs at a time. Returns
 * the records whose status changed.
 */
let running = null;
export function syncNow(post) {
  if (!running) {
    running = (async () => {
      const changed = [];
      try {
        const device = await deviceId();
        for (;;) {
          const batch = await unanswered(500);
          if (batch.length === 0) break;
          const report = await post('/api/v1/sync', { device, events: batch.map((r) => r.event) });
          const c = await applyReport(report);
          changed.push(...c);
          await setMeta('last_sync', new Date().toISOString());
          // Go round again for events queued meanwhile. Only "pending"
          // answers mean the server waits for a gap we cannot fill from
          // here (we always send from our oldest unanswered): stop rather
          // than spin, and try again on the next call.
          if (report.accepted.length === 0 && report.rejected.length === 0) break;
        }
        await prune();
        return { changed, error: null };
      } catch (error) {
        return { changed, error };
      } finally {
        running = null;
      }
    })();
  }
  return running;
}
