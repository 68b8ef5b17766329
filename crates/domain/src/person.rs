//! Persons: a name in any script, an identity document, gender, and the
//! school or employer they are affiliated with (for tracing).

use crate::AreaId;
use crate::ids::{IdError, IdNumber};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A person's name as written on their document. Any Unicode is kept as is
/// (买买提·艾力, 欧阳娜娜, Smith John); only surrounding whitespace is
/// trimmed and control characters refused, because names arrive from
/// Excel sheets with stray spaces and line breaks.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PersonName(String);

impl PersonName {
    /// 1 to 64 characters after trimming, no control characters.
    pub fn parse(raw: &str) -> Result<Self, IdError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(IdError::Empty);
        }
        let n = s.chars().count();
        if n > 64 {
            return Err(IdError::LengthOutOfRange {
                min: 1,
                max: 64,
                found: n,
            });
        }
        if s.chars().any(char::is_control) {
            return Err(IdError::BadCharacter);
        }
        Ok(Self(s.to_string()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for PersonName {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for PersonName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        PersonName::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// A person's key, assigned by the store. Positive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PersonId(pub i64);

/// Gender as recorded on the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Gender {
    Male,
    Female,
}

impl Gender {
    /// Stable storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Gender::Male => "male",
            Gender::Female => "female",
        }
    }

    /// Parses the storage name or the roster's 男/女.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "male" | "男" | "M" | "m" => Some(Gender::Male),
            "female" | "女" | "F" | "f" => Some(Gender::Female),
            _ => None,
        }
    }
}

/// The kinds of identity document a roster holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// 18-digit PRC resident ID (居民身份证).
    ResidentId,
    /// Any passport (护照).
    Passport,
    /// Mainland travel permit for Hong Kong / Macau residents (港澳居民来往内地通行证).
    HkMacauPermit,
    /// Mainland travel permit for Taiwan residents (台湾居民来往大陆通行证).
    TaiwanPermit,
    /// Foreigner's permanent residence ID (外国人永久居留身份证).
    ForeignerPermanent,
    /// Anything else a community accepts (e.g. a birth certificate number).
    Other,
}

impl DocumentKind {
    /// Every kind.
    pub const ALL: [DocumentKind; 6] = [
        DocumentKind::ResidentId,
        DocumentKind::Passport,
        DocumentKind::HkMacauPermit,
        DocumentKind::TaiwanPermit,
        DocumentKind::ForeignerPermanent,
        DocumentKind::Other,
    ];

    /// Stable storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::ResidentId => "resident_id",
            DocumentKind::Passport => "passport",
            DocumentKind::HkMacauPermit => "hk_macau_permit",
            DocumentKind::TaiwanPermit => "taiwan_permit",
            DocumentKind::ForeignerPermanent => "foreigner_permanent",
            DocumentKind::Other => "other",
        }
    }

    /// Parses the storage name or the Chinese word a roster uses.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        Self::ALL.into_iter().find(|k| k.as_str() == s).or(match s {
            "" | "身份证" | "居民身份证" => Some(DocumentKind::ResidentId),
            "护照" => Some(DocumentKind::Passport),
            "港澳通行证" | "港澳居民来往内地通行证" | "回乡证" => {
                Some(DocumentKind::HkMacauPermit)
            }
            "台胞证" | "台湾居民来往大陆通行证" => Some(DocumentKind::TaiwanPermit),
            "永居证" | "外国人永久居留身份证" => {
                Some(DocumentKind::ForeignerPermanent)
            }
            "其他" => Some(DocumentKind::Other),
            _ => None,
        })
    }
}

/// A validated identity document. Resident IDs get the full GB 11643
/// check; other documents only an alphabet and length check, since their
/// formats vary by issuing country.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PersonDocument {
    kind: DocumentKind,
    number: String,
}

impl PersonDocument {
    /// Validates `number` for `kind`.
    pub fn parse(kind: DocumentKind, number: &str) -> Result<Self, IdError> {
        let number = match kind {
            DocumentKind::ResidentId => IdNumber::parse(number)?.as_str().to_string(),
            _ => {
                let s = number.trim().to_ascii_uppercase();
                let n = s.chars().count();
                if !(5..=20).contains(&n) {
                    return Err(IdError::LengthOutOfRange {
                        min: 5,
                        max: 20,
                        found: n,
                    });
                }
                if !s.chars().all(|c| c.is_ascii_alphanumeric()) {
                    return Err(IdError::BadCharacter);
                }
                s
            }
        };
        Ok(Self { kind, number })
    }

    /// Wraps an already validated resident ID.
    pub fn resident(id: &IdNumber) -> Self {
        Self {
            kind: DocumentKind::ResidentId,
            number: id.as_str().to_string(),
        }
    }

    /// The kind of document.
    pub fn kind(&self) -> DocumentKind {
        self.kind
    }

    /// The normalised number. Personal data: mask before showing.
    pub fn number(&self) -> &str {
        &self.number
    }

    /// The masked form for screens and logs.
    pub fn masked(&self) -> String {
        match self.kind {
            DocumentKind::ResidentId => crate::mask_id_number(&self.number),
            _ => crate::mask_document(&self.number),
        }
    }
}

/// Why a person is linked to a school or workplace: tracing follows these
/// links when a member of a pool turns out positive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AffiliationKind {
    /// Pupil or student at a school or university.
    Student,
    /// Works for an employer (or teaches at a school).
    Employee,
}

impl AffiliationKind {
    /// Stable storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            AffiliationKind::Student => "student",
            AffiliationKind::Employee => "employee",
        }
    }

    /// Parses the storage name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "student" => Some(Self::Student),
            "employee" => Some(Self::Employee),
            _ => None,
        }
    }
}

/// A link from a person to a school or workplace area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Affiliation {
    /// The school or workplace (an area of that level).
    pub area: AreaId,
    /// Student or employee.
    pub kind: AffiliationKind,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn names() {
        assert_eq!(
            PersonName::parse(" 买买提·艾力\n").unwrap().as_str(),
            "买买提·艾力"
        );
        assert!(PersonName::parse("  ").is_err());
        assert!(PersonName::parse("王\u{0}五").is_err());
    }

    #[test]
    fn documents() {
        let p = PersonDocument::parse(DocumentKind::Passport, "e12345678").unwrap();
        assert_eq!(p.number(), "E12345678");
        assert!(PersonDocument::parse(DocumentKind::Passport, "E1").is_err());
        assert!(PersonDocument::parse(DocumentKind::ResidentId, "410105199001011230").is_err());
        assert_eq!(DocumentKind::parse("护照"), Some(DocumentKind::Passport));
        assert_eq!(DocumentKind::parse(""), Some(DocumentKind::ResidentId));
    }

    proptest! {
        #[test]
        fn any_unicode_name_round_trips(name in "[^\\p{Cc}\\s][^\\p{Cc}]{0,30}[^\\p{Cc}\\s]") {
            let parsed = PersonName::parse(&name).unwrap();
            prop_assert_eq!(parsed.as_str(), name.as_str());
            let json = serde_json::to_string(&parsed).unwrap();
            let back: PersonName = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(back, parsed);
        }
    }
}
