// Client-side checks of what a sampler scans, mirroring the server's rules
// (crates/domain/src/ids.rs) for instant feedback. The server stays
// authoritative: anything passing here is checked again there.

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];
const PROVINCES = new Set([11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43,
  44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82]);

export const DOCUMENT_KINDS = ['resident_id', 'passport', 'hk_macau_permit', 'taiwan_permit',
  'foreigner_permanent', 'other'];

/** GB 11643 check character of the 17 body digits. */
export function checkChar(body17) {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(body17[i]) * WEIGHTS[i];
  return CHECK_CHARS[sum % 11];
}

function realDate(y, m, d) {
  if (m < 1 || m > 12 || d < 1) return false;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1];
  return d <= days;
}

/** Checks an 18-character resident ID: `{ ok, number }` or
 * `{ ok: false, reason, params }` with `reason` a catalogue key. */
export function checkResidentId(raw) {
  const s = String(raw).trim().toUpperCase();
  if (s.length !== 18) return { ok: false, reason: 'id.length', params: { n: s.length } };
  for (let i = 0; i < 17; i++) {
    if (s[i] < '0' || s[i] > '9') return { ok: false, reason: 'id.digits', params: { pos: i + 1 } };
  }
  if (!/[0-9X]/.test(s[17])) return { ok: false, reason: 'id.digits', params: { pos: 18 } };
  if (!PROVINCES.has(Number(s.slice(0, 2)))) {
    return { ok: false, reason: 'id.region', params: { region: s.slice(0, 6) } };
  }
  const y = Number(s.slice(6, 10));
  const m = Number(s.slice(10, 12));
  const d = Number(s.slice(12, 14));
  if (y < 1880 || y > 2099 || !realDate(y, m, d)) {
    return { ok: false, reason: 'id.birth', params: { date: s.slice(6, 14) } };
  }
  const expected = checkChar(s);
  if (expected !== s[17]) {
    return { ok: false, reason: 'id.check', params: { expected, found: s[17] } };
  }
  return { ok: true, number: s };
}

/** Checks a document of any kind. */
export function checkDocument(kind, raw) {
  if (kind === 'resident_id') return checkResidentId(raw);
  const s = String(raw).trim().toUpperCase();
  if (!/^[0-9A-Z]{5,20}$/.test(s)) return { ok: false, reason: 'id.other', params: {} };
  return { ok: true, number: s };
}

/** Reads a scan as a person: a health-code QR `GSHC1|kind|number` or a
 * document of `kind`. `{ ok, kind, number, qr? }` or a refusal. */
export function readPersonScan(raw, kind = 'resident_id') {
  const s = String(raw).trim();
  if (s.startsWith('GSHC1|')) {
    const [, k, number] = s.split('|');
    if (!DOCUMENT_KINDS.includes(k) || !number) return { ok: false, reason: 'id.qr', params: {} };
    const r = checkDocument(k, number);
    return r.ok ? { ok: true, kind: k, number: r.number, qr: s } : r;
  }
  const r = checkDocument(kind, s);
  return r.ok ? { ok: true, kind, number: r.number } : r;
}

/** Whether a scan is a plausible tube barcode (as the server's Barcode). */
export function isBarcode(raw) {
  return /^[0-9A-Za-z-]{4,40}$/.test(String(raw).trim());
}

/** An ID number as screens show it: `410105********1234`. */
export function mask(kind, number) {
  if (kind === 'resident_id' && number.length === 18) {
    return `${number.slice(0, 6)}********${number.slice(14)}`;
  }
  if (number.length <= 4) return '*'.repeat(number.length);
  return `${number.slice(0, 2)}${'*'.repeat(number.length - 4)}${number.slice(-2)}`;
}
