//! Valid, globally unique resident ID numbers and plausible mobile numbers.
//!
//! Uniqueness is kept without remembering any person: an ID is fixed by its
//! region, birth date and a 3-digit sequence, so a counter per (region,
//! birth date, gender) is enough. That table is bounded by regions × dates
//! (about 2 MB), whatever the size of the city.

use crate::rng::mix;
use gridsweep_domain::ids::id_check_char;
use gridsweep_domain::{IdError, IdNumber, Phone};
use std::fmt::Write;

/// Zhengzhou's county-level region codes (GB/T 2260) that the generator
/// issues IDs under.
pub const ZHENGZHOU_REGIONS: [u32; 12] = [
    410102, 410103, 410104, 410105, 410106, 410108, 410122, 410181, 410182, 410183, 410184, 410185,
];

/// Index of a region code in [`ZHENGZHOU_REGIONS`].
pub(crate) fn region_index(code: u32) -> usize {
    ZHENGZHOU_REGIONS
        .iter()
        .position(|&c| c == code)
        .expect("a Zhengzhou region code")
}

/// The reference day of the story (2022-06-13): ages are as of that day.
pub(crate) const REFERENCE_DATE: (i32, u32, u32) = (2022, 6, 13);

/// Earliest birth date the generator issues (nobody is older than ~106).
const FIRST_YEAR: i32 = 1916;

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
pub(crate) fn days_from_civil(y: i32, m: u32, d: u32) -> i64 {
    let y = i64::from(y) - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day count since 1970-01-01.
pub(crate) fn civil_from_days(z: i64) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    ((y + i64::from(m <= 2)) as i32, m, d)
}

/// The day count of the reference date.
pub(crate) fn reference_day() -> i64 {
    let (y, m, d) = REFERENCE_DATE;
    days_from_civil(y, m, d)
}

/// A birth day for someone `age` whole years old on the reference date.
pub(crate) fn birth_day_for_age(age: u32, offset_in_year: u32) -> i64 {
    let (y, m, d) = REFERENCE_DATE;
    let (m2, d2) = if m == 2 && d == 29 { (2, 28) } else { (m, d) };
    let birthday_this_age = days_from_civil(y - age as i32, m2, d2);
    // Born at most 364 days before that birthday, so still `age` today.
    birthday_this_age - i64::from(offset_in_year % 365)
}

/// Issues unique resident ID numbers.
pub(crate) struct IdMint {
    first_day: i64,
    days: usize,
    /// How many of the 500 sequence slots are taken, per
    /// (region, day, gender).
    taken: Vec<u16>,
    buf: String,
}

/// Sequence slots per (region, date, gender): odd or even 000–999.
const SLOTS: u16 = 500;

impl IdMint {
    /// An empty table covering every date from 1916 to the reference day.
    pub(crate) fn new() -> Self {
        let first_day = days_from_civil(FIRST_YEAR, 1, 1);
        let days = (reference_day() - first_day + 1) as usize;
        Self {
            first_day,
            days,
            taken: vec![0; days * ZHENGZHOU_REGIONS.len() * 2],
            buf: String::with_capacity(18),
        }
    }

    /// A fresh ID for a person born on `day` (days since 1970) registered in
    /// region `region` (an index into [`ZHENGZHOU_REGIONS`]). When every
    /// slot of that date is taken the next region, then the next day, is
    /// used, so issuing never fails for any city size.
    pub(crate) fn issue(
        &mut self,
        region: usize,
        day: i64,
        male: bool,
    ) -> Result<(IdNumber, i64), IdError> {
        let regions = ZHENGZHOU_REGIONS.len();
        let mut day_idx = (day - self.first_day).clamp(0, self.days as i64 - 1) as usize;
        let mut region = region % regions;
        let mut tries = 0usize;
        loop {
            let key = (day_idx * regions + region) * 2 + usize::from(male);
            let slot = self.taken[key];
            if slot < SLOTS {
                self.taken[key] = slot + 1;
                let the_day = self.first_day + day_idx as i64;
                return self
                    .format(region, the_day, slot, male)
                    .map(|id| (id, the_day));
            }
            tries += 1;
            region = (region + 1) % regions;
            if tries.is_multiple_of(regions) {
                // Every region of this date is full: move a day earlier.
                day_idx = if day_idx == 0 {
                    self.days - 1
                } else {
                    day_idx - 1
                };
            }
        }
    }

    fn format(
        &mut self,
        region: usize,
        day: i64,
        slot: u16,
        male: bool,
    ) -> Result<IdNumber, IdError> {
        // Spread the slots over 000–999 so numbers do not all end in 00x.
        let offset = (mix(day as u64, region as u64) % u64::from(SLOTS)) as u32;
        let scrambled = (u32::from(slot) * 263 + offset) % u32::from(SLOTS);
        let seq = scrambled * 2 + u32::from(male);
        let (y, m, d) = civil_from_days(day);
        self.buf.clear();
        write!(
            self.buf,
            "{:06}{:04}{:02}{:02}{:03}",
            ZHENGZHOU_REGIONS[region], y, m, d, seq
        )
        .expect("write to string");
        let mut body = [0u8; 17];
        body.copy_from_slice(self.buf.as_bytes());
        self.buf.push(id_check_char(&body));
        IdNumber::parse(&self.buf)
    }
}

/// Mobile prefixes of the three mainland carriers.
const MOBILE_PREFIXES: [u16; 36] = [
    134, 135, 136, 137, 138, 139, 147, 150, 151, 152, 157, 158, 159, 178, 182, 183, 184, 187, 188,
    198, 130, 131, 132, 155, 156, 166, 175, 176, 185, 186, 133, 153, 173, 177, 180, 189,
];

/// Issues distinct 11-digit mobile numbers: one counter per prefix, fed
/// through a keyed Feistel permutation of 0..10⁸ so the numbers look random
/// yet never repeat.
pub(crate) struct PhoneMint {
    counters: [u32; MOBILE_PREFIXES.len()],
    key: u64,
    buf: String,
}

impl PhoneMint {
    /// Numbers for one generation run; `seed` varies the permutation.
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            counters: [0; MOBILE_PREFIXES.len()],
            key: mix(seed, 0x0050_484F_4E45),
            buf: String::with_capacity(11),
        }
    }

    /// A new number under the prefix picked by `choice` (any number).
    pub(crate) fn issue(&mut self, choice: u64) -> Result<Phone, IdError> {
        let start = (choice % MOBILE_PREFIXES.len() as u64) as usize;
        // A prefix is exhausted after 10⁸ numbers; fall through to the next.
        let mut i = start;
        while self.counters[i] >= 100_000_000 {
            i = (i + 1) % MOBILE_PREFIXES.len();
            if i == start {
                return Err(IdError::NotAMobile);
            }
        }
        let n = self.counters[i];
        self.counters[i] += 1;
        let subscriber = feistel(n, self.key ^ i as u64);
        self.buf.clear();
        write!(self.buf, "{}{:08}", MOBILE_PREFIXES[i], subscriber).expect("write to string");
        Phone::parse(&self.buf)
    }
}

/// A bijection on 0..10⁸ (two halves of 0..10⁴, four rounds).
fn feistel(x: u32, key: u64) -> u32 {
    const HALF: u32 = 10_000;
    let (mut l, mut r) = (x / HALF, x % HALF);
    for round in 0..4u64 {
        let f = (mix(u64::from(r), key.wrapping_add(round)) % u64::from(HALF)) as u32;
        let next = (l + f) % HALF;
        l = r;
        r = next;
    }
    l * HALF + r
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn dates_round_trip() {
        for z in [-20_000i64, -1, 0, 1, 11_016, 19_156, 19_000] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
            assert!(gridsweep_domain::ids::is_real_date(y as u32, m, d));
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(civil_from_days(reference_day()), (2022, 6, 13));
        let b = birth_day_for_age(30, 364);
        let (y, _, _) = civil_from_days(b);
        assert_eq!(y, 1991);
    }

    #[test]
    fn ids_are_valid_and_unique_even_when_a_date_is_crowded() {
        let mut mint = IdMint::new();
        let day = days_from_civil(1990, 2, 28);
        let mut seen = HashSet::new();
        for i in 0..3_000 {
            let male = i % 2 == 0;
            let (id, d) = mint.issue(0, day, male).unwrap();
            assert_eq!(id.gender() == gridsweep_domain::Gender::Male, male);
            let (y, m, dd) = id.birth_date();
            assert_eq!(days_from_civil(y as i32, m, dd), d);
            assert!(seen.insert(id.as_str().to_string()), "duplicate {id:?}");
        }
        // 3,000 people of one gender-half per date overflow one region's
        // 500 slots; they spill into other regions.
        let regions: HashSet<String> = seen.iter().map(|s| s[..6].to_string()).collect();
        assert!(regions.len() >= 3);
    }

    #[test]
    fn phones_are_valid_and_distinct() {
        let mut mint = PhoneMint::new(613);
        let mut seen = HashSet::new();
        for i in 0..20_000u64 {
            let p = mint.issue(i * 7).unwrap();
            assert!(seen.insert(p.as_str().to_string()));
        }
        let mut perm = HashSet::new();
        for x in 0..20_000 {
            let y = feistel(x, 9);
            assert!(y < 100_000_000);
            assert!(perm.insert(y));
        }
    }
}
