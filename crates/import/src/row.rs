//! One data row to validated person fields and an address to look up, or
//! to the reasons it cannot be (each naming its column). Nothing here
//! touches the store: that is [`crate::resolve`]'s job.

use crate::decode::{Mangle, SheetRow, is_scientific};
use crate::header::{Field, Header};
use crate::report::RowError;
use gridsweep_domain::{
    Affiliation, DocumentKind, Gender, IdError, PersonDocument, PersonName, Phone, mask_document,
    mask_id_number, mask_phone,
};

/// A row error with the column index it sorts by within its row.
#[derive(Debug, Clone)]
pub(crate) struct Issue {
    pub col: usize,
    pub error: RowError,
}

/// The address columns of a row, down to the building (the household is
/// kept apart so that rows of one building share one lookup).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct AddressKey {
    pub sub_district: Option<String>,
    pub community: String,
    pub grid: Option<String>,
    pub compound: Option<String>,
    pub building: String,
}

impl AddressKey {
    /// The address as staff write it, for messages.
    pub fn describe(&self) -> String {
        [
            self.sub_district.as_deref(),
            Some(self.community.as_str()),
            self.grid.as_deref(),
            self.compound.as_deref(),
            Some(self.building.as_str()),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ")
    }
}

/// What a row says, as far as it could be validated.
#[derive(Debug, Clone)]
pub(crate) struct ParsedRow {
    pub row: u32,
    pub issues: Vec<Issue>,
    pub name: Option<PersonName>,
    pub document: Option<PersonDocument>,
    pub gender: Option<Gender>,
    pub birth_date: Option<String>,
    pub phone: Option<Phone>,
    pub address: Option<AddressKey>,
    /// Household name under the building: `2单元301`, or `301` without a unit.
    pub household: Option<String>,
    pub school: Option<String>,
    pub employer: Option<String>,
    /// Filled in by resolution from `school` and `employer`.
    pub affiliations: Vec<Affiliation>,
}

impl ParsedRow {
    /// Records a problem with one of the row's columns.
    pub fn flag(&mut self, header: &Header, field: Field, value_masked: String, reason: String) {
        self.issues.push(Issue {
            col: header.col(field).unwrap_or(usize::MAX),
            error: RowError {
                row: self.row,
                column: header.text(field),
                value_masked,
                reason,
            },
        });
    }
}

/// A cell's content as far as this row is concerned.
enum Value {
    /// Empty, or no such column.
    Absent,
    /// Excel damaged it; already reported.
    Reported,
    /// Trimmed text, and whether Excel rounded it as a number.
    Text(String, bool),
}

/// Masks a cell for the report: ID numbers and phones are personal data
/// and are never echoed in full.
pub(crate) fn masked(field: Field, text: &str, kind: Option<DocumentKind>) -> String {
    match field {
        Field::DocNumber => match kind {
            Some(DocumentKind::ResidentId) | None => mask_id_number(text),
            Some(_) => mask_document(text),
        },
        Field::Phone => mask_phone(text),
        _ => text.chars().take(40).collect(),
    }
}

/// Full-width letters and digits (as typed with a Chinese IME) to ASCII,
/// and all whitespace removed: for ID numbers and phones only.
fn ascii_fold(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// Chinese reason with an English gloss for an identifier the domain
/// refused; `zh` names the column (身份证号, 手机号 …).
fn id_reason(zh: &str, e: &IdError) -> String {
    match e {
        IdError::WrongLength { expected, found } => format!(
            "{zh}应为{expected}位，实为{found}位 (must be {expected} characters, got {found})"
        ),
        IdError::NotADigit { position } => {
            format!("{zh}第{position}位不是数字 (character {position} must be a digit)")
        }
        IdError::UnknownRegion(code) => {
            format!("{zh}地区码 {code} 不是有效的省份 (region code {code} is not a PRC province)")
        }
        IdError::InvalidBirthDate(_) => {
            format!("{zh}中的出生日期不存在 (the birth date in the number is not a real date)")
        }
        IdError::WrongCheckDigit { expected, found } => {
            format!("{zh}校验位错误 (check digit wrong: expected {expected}, found {found})")
        }
        IdError::NotAMobile => {
            format!("{zh}不是手机号，应以13–19开头 (not a mobile number: must start with 13–19)")
        }
        IdError::BadCharacter => {
            format!("{zh}只能包含字母和数字 (may hold only letters and digits)")
        }
        IdError::LengthOutOfRange { min, max, found } => format!(
            "{zh}长度应为{min}–{max}个字符，实为{found} (must be {min} to {max} characters, got {found})"
        ),
        IdError::Empty => format!("{zh}为空 ({zh} is missing)"),
    }
}

fn gender_zh(g: Gender) -> &'static str {
    match g {
        Gender::Male => "男",
        Gender::Female => "女",
    }
}

struct Cells<'a> {
    header: &'a Header,
    row: &'a SheetRow,
}

impl Cells<'_> {
    fn value(&self, out: &mut ParsedRow, field: Field) -> Value {
        let Some(cell) = self.header.col(field).and_then(|i| self.row.cells.get(i)) else {
            return Value::Absent;
        };
        let text = cell.text.trim();
        match cell.mangle {
            Some(Mangle::Date) => {
                out.flag(
                    self.header,
                    field,
                    String::new(),
                    "Excel 把此单元格变成了日期，请将该列设为文本后重新填写 (Excel turned this cell into a date; format the column as Text and re-enter it)".into(),
                );
                Value::Reported
            }
            Some(Mangle::ExcelError) => {
                out.flag(
                    self.header,
                    field,
                    text.to_string(),
                    format!("单元格是 Excel 错误值 {text} (the cell holds an Excel error value)"),
                );
                Value::Reported
            }
            _ if text.is_empty() => Value::Absent,
            m => Value::Text(text.to_string(), m == Some(Mangle::RoundedNumber)),
        }
    }

    /// Text of an optional column, `None` when empty or damaged.
    fn optional(&self, out: &mut ParsedRow, field: Field) -> Option<String> {
        match self.value(out, field) {
            Value::Text(t, _) => Some(t),
            _ => None,
        }
    }

    /// Text of a required column; flags it when empty.
    fn required(&self, out: &mut ParsedRow, field: Field) -> Option<String> {
        match self.value(out, field) {
            Value::Text(t, _) => Some(t),
            Value::Reported => None,
            Value::Absent => {
                let zh = self.header.text(field);
                out.flag(
                    self.header,
                    field,
                    String::new(),
                    format!("{zh}为空 ({} is missing)", field.english()),
                );
                None
            }
        }
    }
}

/// Validates one non-blank data row.
pub(crate) fn parse(header: &Header, row: &SheetRow) -> ParsedRow {
    let cells = Cells { header, row };
    let mut out = ParsedRow {
        row: row.row,
        issues: Vec::new(),
        name: None,
        document: None,
        gender: None,
        birth_date: None,
        phone: None,
        address: None,
        household: None,
        school: None,
        employer: None,
        affiliations: Vec::new(),
    };

    if let Some(raw) = cells.required(&mut out, Field::Name) {
        match PersonName::parse(&raw) {
            Ok(n) => out.name = Some(n),
            Err(e) => {
                let reason = match e {
                    IdError::LengthOutOfRange { max, found, .. } => format!(
                        "姓名过长：{found}个字符，最多{max}个 (name too long: {found} characters, at most {max})"
                    ),
                    _ => "姓名含有换行或控制字符 (name holds a line break or control character)"
                        .to_string(),
                };
                out.flag(header, Field::Name, masked(Field::Name, &raw, None), reason);
            }
        }
    }

    let kind = match cells.optional(&mut out, Field::DocKind) {
        None => Some(DocumentKind::ResidentId),
        Some(raw) => {
            let k = DocumentKind::parse(&raw);
            if k.is_none() {
                out.flag(
                    header,
                    Field::DocKind,
                    raw.clone(),
                    format!("未知证件类型「{raw}」，可填 居民身份证、护照、港澳通行证、台胞证、永居证、其他 (unknown document kind)"),
                );
            }
            k
        }
    };

    let doc_zh = header.text(Field::DocNumber);
    match cells.value(&mut out, Field::DocNumber) {
        Value::Reported => {}
        Value::Absent => out.flag(
            header,
            Field::DocNumber,
            String::new(),
            format!("{doc_zh}为空 (document number is missing)"),
        ),
        Value::Text(raw, rounded) => {
            let number = ascii_fold(&raw);
            if rounded || is_scientific(&number) {
                out.flag(
                    header,
                    Field::DocNumber,
                    masked(Field::DocNumber, &number, kind),
                    format!("{doc_zh}被 Excel 存成了数字，末几位已丢失，请将该列设为文本后重新填写 (Excel stored the number as a number and rounded it; format the column as Text and re-enter it)"),
                );
            } else if let Some(kind) = kind {
                match PersonDocument::parse(kind, &number) {
                    Ok(d) => out.document = Some(d),
                    Err(e) => out.flag(
                        header,
                        Field::DocNumber,
                        masked(Field::DocNumber, &number, Some(kind)),
                        id_reason(&doc_zh, &e),
                    ),
                }
            }
        }
    }

    let resident = out
        .document
        .as_ref()
        .filter(|d| d.kind() == DocumentKind::ResidentId)
        .and_then(|d| gridsweep_domain::IdNumber::parse(d.number()).ok());
    if let Some(id) = &resident {
        let (y, m, d) = id.birth_date();
        out.birth_date = Some(format!("{y:04}-{m:02}-{d:02}"));
        out.gender = Some(id.gender());
    }
    if let Some(raw) = cells.optional(&mut out, Field::Gender) {
        match (Gender::parse(&raw), &resident) {
            (None, _) => out.flag(
                header,
                Field::Gender,
                raw,
                "性别应填 男 或 女 (gender must be 男 or 女)".into(),
            ),
            (Some(g), Some(id)) if g != id.gender() => {
                let by_id = id.gender();
                out.flag(
                    header,
                    Field::Gender,
                    raw,
                    format!(
                        "性别与身份证号不符，身份证号显示为{} (gender contradicts the ID number, which says {})",
                        gender_zh(by_id),
                        by_id.as_str()
                    ),
                );
            }
            (Some(g), _) => out.gender = Some(g),
        }
    }

    if let Some(raw) = cells.optional(&mut out, Field::Phone) {
        let folded = ascii_fold(&raw);
        match Phone::parse(&folded) {
            Ok(p) => out.phone = Some(p),
            Err(e) => {
                let zh = header.text(Field::Phone);
                out.flag(
                    header,
                    Field::Phone,
                    masked(Field::Phone, &folded, None),
                    id_reason(&zh, &e),
                );
            }
        }
    }

    let sub_district = cells.optional(&mut out, Field::SubDistrict);
    let community = cells.required(&mut out, Field::Community);
    let grid = cells.optional(&mut out, Field::Grid);
    let compound = cells.optional(&mut out, Field::Compound);
    let building = cells.required(&mut out, Field::Building);
    let unit = cells.optional(&mut out, Field::Unit);
    let room = cells.required(&mut out, Field::Room);
    if let (Some(community), Some(building)) = (community, building) {
        out.address = Some(AddressKey {
            sub_district,
            community,
            grid,
            compound,
            building,
        });
    }
    out.household = room.map(|room| household_name(unit.as_deref(), &room));

    out.school = cells.optional(&mut out, Field::School);
    out.employer = cells.optional(&mut out, Field::Employer);
    out
}

/// `2单元301` from unit `2` (or `2单元`) and room `301`; just the room when
/// there is no unit or the room already carries it.
pub(crate) fn household_name(unit: Option<&str>, room: &str) -> String {
    let Some(unit) = unit.map(str::trim).filter(|u| !u.is_empty()) else {
        return room.to_string();
    };
    let unit = if unit.chars().all(|c| c.is_ascii_digit()) {
        format!("{unit}单元")
    } else {
        unit.to_string()
    };
    if room.starts_with(&unit) {
        room.to_string()
    } else {
        format!("{unit}{room}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::Cell;

    #[test]
    fn household_names() {
        assert_eq!(household_name(Some("2单元"), "301"), "2单元301");
        assert_eq!(household_name(Some("2"), "301"), "2单元301");
        assert_eq!(household_name(None, "301"), "301");
        assert_eq!(household_name(Some(" "), "301"), "301");
        assert_eq!(household_name(Some("2单元"), "2单元301"), "2单元301");
    }

    #[test]
    fn folds_full_width_digits() {
        assert_eq!(ascii_fold("４１０１ 05ｘ"), "410105x");
    }

    fn header() -> Header {
        let row = SheetRow {
            row: 1,
            cells: [
                "姓名",
                "身份证号",
                "性别",
                "手机号",
                "社区",
                "楼栋",
                "单元",
                "房号",
            ]
            .iter()
            .map(|t| Cell {
                text: t.to_string(),
                mangle: None,
            })
            .collect(),
        };
        crate::header::locate(&[row]).unwrap()
    }

    fn data(cells: &[&str]) -> SheetRow {
        SheetRow {
            row: 2,
            cells: cells
                .iter()
                .map(|t| Cell {
                    text: t.to_string(),
                    mangle: None,
                })
                .collect(),
        }
    }

    #[test]
    fn derives_birth_and_gender_and_checks_them() {
        let h = header();
        // 11010519491231002X: the GB 11643 example, a woman born 1949-12-31.
        let ok = parse(
            &h,
            &data(&[
                "欧阳娜娜",
                "11010519491231002x",
                "女",
                "138 1234 5678",
                "瓦屋李社区",
                "1号楼",
                "1",
                "101",
            ]),
        );
        assert!(ok.issues.is_empty(), "{:?}", ok.issues);
        assert_eq!(ok.birth_date.as_deref(), Some("1949-12-31"));
        assert_eq!(ok.gender, Some(Gender::Female));
        assert_eq!(ok.household.as_deref(), Some("1单元101"));
        assert_eq!(ok.phone.unwrap().as_str(), "13812345678");

        let bad = parse(
            &h,
            &data(&[
                "",
                "110105194912310021",
                "男",
                "12345",
                "瓦屋李社区",
                "",
                "",
                "101",
            ]),
        );
        let reasons: Vec<_> = bad
            .issues
            .iter()
            .map(|i| (i.error.column.as_str(), i.error.reason.as_str()))
            .collect();
        assert_eq!(reasons.len(), 4, "{reasons:?}");
        assert_eq!(reasons[0], ("姓名", "姓名为空 (name is missing)"));
        assert_eq!(
            reasons[1],
            (
                "身份证号",
                "身份证号校验位错误 (check digit wrong: expected X, found 1)"
            )
        );
        assert_eq!(bad.issues[1].error.value_masked, "110105********0021");
        assert_eq!(reasons[2].0, "手机号");
        assert_eq!(bad.issues[2].error.value_masked, "*****");
        assert_eq!(reasons[3], ("楼栋", "楼栋为空 (building is missing)"));
        assert!(bad.address.is_none());

        let contradiction = parse(
            &h,
            &data(&[
                "张三",
                "11010519491231002X",
                "男",
                "",
                "瓦屋李社区",
                "1号楼",
                "",
                "101",
            ]),
        );
        assert_eq!(contradiction.issues.len(), 1);
        assert!(contradiction.issues[0].error.reason.contains("says female"));
    }
}
