//! Masking of personal identifiers for screens, logs and exports.
//!
//! The shapes follow what residents see on Chinese health-code apps, so
//! staff recognise them: `410105********1234`, `138****5678`.

/// Keeps the region code and the last four characters of an 18-character ID
/// (enough to tell two residents apart at a door, not enough to misuse).
pub fn mask_id_number(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() == 18 {
        let head: String = chars[..6].iter().collect();
        let tail: String = chars[14..].iter().collect();
        format!("{head}********{tail}")
    } else {
        mask_document(id)
    }
}

/// Keeps the carrier prefix and the last four digits of a mobile number.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() == 11 {
        let head: String = chars[..3].iter().collect();
        let tail: String = chars[7..].iter().collect();
        format!("{head}****{tail}")
    } else {
        "*".repeat(chars.len())
    }
}

/// Passports and other documents: first two and last two characters.
pub fn mask_document(doc: &str) -> String {
    let chars: Vec<char> = doc.chars().collect();
    if chars.len() <= 4 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..2].iter().collect();
    let tail: String = chars[chars.len() - 2..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 4))
}

/// A name shown to someone whose scope does not reach the person: the
/// family name only (`张**`, `买***`), as health-code apps show strangers.
pub fn mask_name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => format!("{first}{}", "*".repeat(chars.count().max(1))),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_keep_the_first_character_only() {
        assert_eq!(mask_name("宋瑞嘉"), "宋**");
        assert_eq!(mask_name("买买提·艾力"), "买*****");
        assert_eq!(mask_name("李"), "李*");
        assert_eq!(mask_name(""), "");
    }

    #[test]
    fn shapes() {
        assert_eq!(mask_id_number("410105199001011234"), "410105********1234");
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_document("E12345678"), "E1*****78");
    }
}
