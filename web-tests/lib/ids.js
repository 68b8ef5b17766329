// Resident ID numbers for test people, made here independently of the
// page's own checker (GB 11643: weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2,
// check characters 1 0 X 9 8 7 6 5 4 3 2 by the sum modulo 11).

const W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const C = '10X98765432';

export function withCheck(body17) {
  const sum = [...body17].reduce((s, d, i) => s + Number(d) * W[i], 0);
  return body17 + C[sum % 11];
}

/** The i-th test person's ID: region 410105, born 1951 plus i days, sequence 97x. */
export function testId(i) {
  const d = new Date(Date.UTC(1951, 0, 1) + i * 86_400_000 * 37);
  const ymd = d.toISOString().slice(0, 10).replaceAll('-', '');
  return withCheck(`410105${ymd}${String(970 + (i % 30)).padStart(3, '0')}`);
}

/** The same number with a wrong check character. */
export function wrongCheck(id) {
  const good = id[17];
  const bad = good === '1' ? '2' : '1';
  return id.slice(0, 17) + bad;
}
