//! Validated identifiers: the resident ID number, the mobile phone, the tube
//! barcode. Each is a newtype whose only constructor checks the value, so
//! code further in never has to ask "is this one valid?".

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use thiserror::Error;

/// Why an identifier was refused. The messages are shown to the person who
/// typed or scanned the value, so they say what is wrong in plain words.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IdError {
    #[error("must be {expected} characters, got {found}")]
    WrongLength { expected: usize, found: usize },
    #[error("character {position} must be a digit")]
    NotADigit { position: usize },
    #[error("region code {0} is not a PRC province")]
    UnknownRegion(String),
    #[error("birth date {0} is not a real date")]
    InvalidBirthDate(String),
    #[error("check character is {found}, the number's digits give {expected}")]
    WrongCheckDigit { expected: char, found: char },
    #[error("mobile number must start with 13–19")]
    NotAMobile,
    #[error("may hold only letters, digits and '-'")]
    BadCharacter,
    #[error("must be {min} to {max} characters, got {found}")]
    LengthOutOfRange {
        min: usize,
        max: usize,
        found: usize,
    },
    #[error("must not be empty")]
    Empty,
}

/// GB 11643-1999 weights for the 17 body digits of a resident ID.
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check characters indexed by the weighted sum modulo 11.
const CHECK_CHARS: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];
/// Province-level prefixes in use (GB/T 2260), including Taiwan, Hong Kong
/// and Macau which appear on residence permits.
const PROVINCES: [u32; 34] = [
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
    53, 54, 61, 62, 63, 64, 65, 71, 81, 82,
];

/// The check character GB 11643 assigns to 17 body digits. Public so that a
/// generator can make valid numbers without guessing.
pub fn id_check_char(body: &[u8; 17]) -> char {
    let sum: u32 = body
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CHECK_CHARS[(sum % 11) as usize]
}

/// Whether `year-month-day` is a date on the Gregorian calendar.
pub fn is_real_date(year: u32, month: u32, day: u32) -> bool {
    if !(1..=12).contains(&month) || day == 0 {
        return false;
    }
    let leap = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
    let days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    day <= days
}

/// An 18-character PRC resident ID number: 6-digit region code, birth date,
/// 3-digit sequence (odd for men), GB 11643 check character (`X` allowed).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdNumber(String);

impl IdNumber {
    /// Validates and normalises (trims, upper-cases a trailing `x`).
    pub fn parse(raw: &str) -> Result<Self, IdError> {
        let s = raw.trim().to_ascii_uppercase();
        let chars: Vec<char> = s.chars().collect();
        if chars.len() != 18 {
            return Err(IdError::WrongLength {
                expected: 18,
                found: chars.len(),
            });
        }
        for (i, c) in chars[..17].iter().enumerate() {
            if !c.is_ascii_digit() {
                return Err(IdError::NotADigit { position: i + 1 });
            }
        }
        let last = chars[17];
        if !(last.is_ascii_digit() || last == 'X') {
            return Err(IdError::NotADigit { position: 18 });
        }
        let province: u32 = s[0..2].parse().expect("digits");
        if !PROVINCES.contains(&province) {
            return Err(IdError::UnknownRegion(s[0..6].to_string()));
        }
        let year: u32 = s[6..10].parse().expect("digits");
        let month: u32 = s[10..12].parse().expect("digits");
        let day: u32 = s[12..14].parse().expect("digits");
        if !(1880..=2099).contains(&year) || !is_real_date(year, month, day) {
            return Err(IdError::InvalidBirthDate(s[6..14].to_string()));
        }
        let mut body = [0u8; 17];
        body.copy_from_slice(&s.as_bytes()[..17]);
        let expected = id_check_char(&body);
        if expected != last {
            return Err(IdError::WrongCheckDigit {
                expected,
                found: last,
            });
        }
        Ok(Self(s))
    }

    /// The normalised 18 characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The six-digit administrative region where the number was issued.
    pub fn region_code(&self) -> &str {
        &self.0[0..6]
    }

    /// Birth date as `(year, month, day)`; always a real date.
    pub fn birth_date(&self) -> (u32, u32, u32) {
        let p = |r: std::ops::Range<usize>| self.0[r].parse().expect("validated");
        (p(6..10), p(10..12), p(12..14))
    }

    /// Gender from the parity of the sequence digit (odd: male).
    pub fn gender(&self) -> crate::Gender {
        let d = self.0.as_bytes()[16] - b'0';
        if d % 2 == 1 {
            crate::Gender::Male
        } else {
            crate::Gender::Female
        }
    }
}

/// Debug never prints the full number, so a stray `{:?}` in a log line
/// cannot leak it.
impl fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdNumber({})", crate::mask_id_number(&self.0))
    }
}

/// An 11-digit mainland mobile number (1[3-9]xxxxxxxxx).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

impl Phone {
    /// Accepts spaces, dashes and a `+86`/`86` prefix, as people type them.
    pub fn parse(raw: &str) -> Result<Self, IdError> {
        let mut digits: String = raw
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '(' | ')'))
            .collect();
        if let Some(rest) = digits.strip_prefix("+86") {
            digits = rest.to_string();
        } else if digits.len() == 13 && digits.starts_with("86") {
            digits = digits[2..].to_string();
        }
        let n = digits.chars().count();
        if n != 11 {
            return Err(IdError::WrongLength {
                expected: 11,
                found: n,
            });
        }
        if let Some(pos) = digits.chars().position(|c| !c.is_ascii_digit()) {
            return Err(IdError::NotADigit { position: pos + 1 });
        }
        let b = digits.as_bytes();
        if b[0] != b'1' || !(b'3'..=b'9').contains(&b[1]) {
            return Err(IdError::NotAMobile);
        }
        Ok(Self(digits))
    }

    /// The 11 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phone({})", crate::mask_phone(&self.0))
    }
}

/// The printed code on a sampling tube or transfer box. Scanners type it,
/// so only ASCII letters, digits and '-' are allowed; 4 to 40 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Barcode(String);

impl Barcode {
    /// Trims the scanner's whitespace and checks the alphabet and length.
    pub fn parse(raw: &str) -> Result<Self, IdError> {
        let s = raw.trim();
        let n = s.chars().count();
        if !(4..=40).contains(&n) {
            return Err(IdError::LengthOutOfRange {
                min: 4,
                max: 40,
                found: n,
            });
        }
        if !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(IdError::BadCharacter);
        }
        Ok(Self(s.to_string()))
    }

    /// The code as printed.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! string_serde {
    ($t:ty) => {
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                <$t>::parse(&raw).map_err(serde::de::Error::custom)
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl std::str::FromStr for $t {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                <$t>::parse(s)
            }
        }
    };
}
string_serde!(IdNumber);
string_serde!(Phone);
string_serde!(Barcode);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_numbers() {
        // The GB 11643 worked example.
        assert!(IdNumber::parse("11010519491231002X").is_ok());
        assert!(IdNumber::parse("11010519491231002x").is_ok());
        assert_eq!(
            IdNumber::parse("110105194912310021"),
            Err(IdError::WrongCheckDigit {
                expected: 'X',
                found: '1'
            })
        );
        assert!(matches!(
            IdNumber::parse("410105199902300011"),
            Err(IdError::InvalidBirthDate(_))
        ));
        assert!(matches!(
            IdNumber::parse("991051990010100112"),
            Err(IdError::UnknownRegion(_))
        ));
    }

    #[test]
    fn debug_masks() {
        let id = IdNumber::parse("11010519491231002X").unwrap();
        assert_eq!(format!("{id:?}"), "IdNumber(110105********002X)");
        let p = Phone::parse("+86 138-1234-5678").unwrap();
        assert_eq!(p.as_str(), "13812345678");
        assert_eq!(format!("{p:?}"), "Phone(138****5678)");
    }

    #[test]
    fn phones_and_barcodes() {
        assert!(Phone::parse("12812345678").is_err());
        assert!(Phone::parse("1381234567").is_err());
        assert!(Barcode::parse(" GS-000123\r\n").is_ok());
        assert!(Barcode::parse("GS 0001").is_err());
        assert!(Barcode::parse("管-0001").is_err());
    }

    fn valid_id() -> impl Strategy<Value = String> {
        (
            prop::sample::select(vec![410102u32, 410103, 410105, 410122, 110105, 650102]),
            1900u32..2025,
            1u32..=12,
            1u32..=31,
            0u32..1000,
        )
            .prop_filter("real date", |(_, y, m, d, _)| is_real_date(*y, *m, *d))
            .prop_map(|(r, y, m, d, seq)| {
                let body = format!("{r:06}{y:04}{m:02}{d:02}{seq:03}");
                let mut b = [0u8; 17];
                b.copy_from_slice(body.as_bytes());
                format!("{body}{}", id_check_char(&b))
            })
    }

    proptest! {
        #[test]
        fn every_generated_id_passes(id in valid_id()) {
            prop_assert!(IdNumber::parse(&id).is_ok());
        }

        #[test]
        fn any_single_changed_digit_fails(id in valid_id(), pos in 0usize..18, bump in 1u8..10) {
            let mut bytes = id.into_bytes();
            let c = bytes[pos];
            bytes[pos] = if c == b'X' {
                b'0' + (bump % 10)
            } else {
                b'0' + ((c - b'0' + bump) % 10)
            };
            let changed = String::from_utf8(bytes).unwrap();
            prop_assert!(IdNumber::parse(&changed).is_err(), "{} passed", changed);
        }
    }
}
