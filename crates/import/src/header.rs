//! The header row: which column holds which field, matched on the Chinese
//! words community staff use (and English aliases), tolerant of the stray
//! spaces, `*` required-markers and `（必填）` notes that templates carry.

use crate::ImportError;
use crate::decode::SheetRow;
use std::collections::HashMap;

/// A field of the roster the importer understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Field {
    Name,
    DocKind,
    DocNumber,
    Phone,
    Gender,
    SubDistrict,
    Community,
    Grid,
    Compound,
    Building,
    Unit,
    Room,
    School,
    Employer,
}

impl Field {
    pub const ALL: [Field; 14] = [
        Field::Name,
        Field::DocKind,
        Field::DocNumber,
        Field::Phone,
        Field::Gender,
        Field::SubDistrict,
        Field::Community,
        Field::Grid,
        Field::Compound,
        Field::Building,
        Field::Unit,
        Field::Room,
        Field::School,
        Field::Employer,
    ];

    /// Header texts that mean this field, already normalised (see
    /// [`normalise`]); the first is the canonical Chinese header.
    pub fn aliases(self) -> &'static [&'static str] {
        match self {
            Field::Name => &["姓名", "名字", "name", "full_name"],
            Field::DocKind => &[
                "证件类型",
                "证件种类",
                "document_kind",
                "document_type",
                "doc_kind",
                "id_type",
            ],
            Field::DocNumber => &[
                "身份证号",
                "证件号码",
                "身份证号码",
                "证件号",
                "身份证",
                "id_number",
                "document_number",
                "doc_number",
                "id_no",
            ],
            Field::Phone => &[
                "手机号",
                "联系电话",
                "手机号码",
                "手机",
                "电话",
                "phone",
                "mobile",
            ],
            Field::Gender => &["性别", "gender", "sex"],
            Field::SubDistrict => &[
                "街道",
                "街道办事处",
                "街道/乡镇",
                "乡镇",
                "sub_district",
                "subdistrict",
                "street",
            ],
            Field::Community => &["社区", "社区/村", "村", "community", "village"],
            Field::Grid => &["网格", "grid"],
            Field::Compound => &["小区", "小区名称", "compound"],
            Field::Building => &["楼栋", "楼号", "楼栋号", "building"],
            Field::Unit => &["单元", "单元号", "unit"],
            Field::Room => &["房号", "房间号", "门牌号", "室", "room"],
            Field::School => &["学校", "就读学校", "school"],
            Field::Employer => &["工作单位", "单位", "employer", "workplace"],
        }
    }

    /// Without these a row cannot become a person at an address.
    pub fn required(self) -> bool {
        matches!(
            self,
            Field::Name | Field::DocNumber | Field::Community | Field::Building | Field::Room
        )
    }

    /// The field in English, for glosses.
    pub fn english(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::DocKind => "document kind",
            Field::DocNumber => "ID number",
            Field::Phone => "phone",
            Field::Gender => "gender",
            Field::SubDistrict => "sub-district",
            Field::Community => "community",
            Field::Grid => "grid",
            Field::Compound => "compound",
            Field::Building => "building",
            Field::Unit => "unit",
            Field::Room => "room",
            Field::School => "school",
            Field::Employer => "employer",
        }
    }

    /// The canonical Chinese header with an English gloss, for messages.
    pub fn label(self) -> String {
        format!("{} ({})", self.aliases()[0], self.english())
    }

    fn of_header(text: &str) -> Option<Field> {
        let n = normalise(text);
        Field::ALL
            .into_iter()
            .find(|f| f.aliases().contains(&n.as_str()))
    }
}

/// Trims (also full-width spaces and a stray BOM), drops `*` markers and a
/// trailing parenthesised note, lower-cases ASCII and joins English words
/// with `_`, so `" *身份证号（必填）"` and `"ID Number"` both match.
pub(crate) fn normalise(text: &str) -> String {
    let mut s = text
        .trim_matches(|c: char| c.is_whitespace() || matches!(c, '\u{feff}' | '*' | '＊'))
        .to_string();
    for (open, close) in [('（', '）'), ('(', ')')] {
        if let Some(i) = s.rfind(open).filter(|_| s.ends_with(close)) {
            s.truncate(i);
        }
    }
    s.trim_matches(|c: char| c.is_whitespace() || matches!(c, '*' | '＊'))
        .to_ascii_lowercase()
        .split(|c: char| c.is_whitespace() || c == '-')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("_")
}

/// The located header: its row, which column holds each field, and the
/// columns nobody asked for.
#[derive(Debug, Clone)]
pub(crate) struct Header {
    /// Index into the sheet's rows.
    pub index: usize,
    /// Excel row number of the header.
    pub row: u32,
    columns: HashMap<Field, (usize, String)>,
    pub unknown: Vec<String>,
}

impl Header {
    /// The column index of `field`, if the file has it.
    pub fn col(&self, field: Field) -> Option<usize> {
        self.columns.get(&field).map(|(i, _)| *i)
    }

    /// The header text as written in the file (for reports), or the
    /// canonical header when the file has no such column.
    pub fn text(&self, field: Field) -> String {
        self.columns
            .get(&field)
            .map(|(_, t)| t.trim().to_string())
            .unwrap_or_else(|| field.aliases()[0].to_string())
    }

    pub fn has(&self, field: Field) -> bool {
        self.columns.contains_key(&field)
    }

    fn of_row(index: usize, row: &SheetRow) -> Result<Self, ImportError> {
        let mut columns: HashMap<Field, (usize, String)> = HashMap::new();
        let mut unknown = Vec::new();
        for (i, cell) in row.cells.iter().enumerate() {
            let text = cell.text.trim();
            if text.is_empty() {
                continue;
            }
            match Field::of_header(text) {
                Some(f) => {
                    if let Some((_, first)) = columns.get(&f) {
                        return Err(ImportError::DuplicateColumn {
                            first: first.clone(),
                            second: text.to_string(),
                            meaning: f.english(),
                        });
                    }
                    columns.insert(f, (i, text.to_string()));
                }
                None => unknown.push(text.to_string()),
            }
        }
        Ok(Self {
            index,
            row: row.row,
            columns,
            unknown,
        })
    }
}

/// How many non-blank rows may sit above the header (a title such as
/// "瓦屋李社区居民花名册", a date line).
const MAX_TITLE_ROWS: usize = 5;

/// Finds the header: the first non-blank row (of the first few) naming at
/// least two known fields; then checks the required ones are all there.
pub(crate) fn locate(rows: &[SheetRow]) -> Result<Header, ImportError> {
    let candidates: Vec<(usize, &SheetRow)> = rows
        .iter()
        .enumerate()
        .filter(|(_, r)| !r.is_blank())
        .take(MAX_TITLE_ROWS + 1)
        .collect();
    let Some(&(first_index, first_row)) = candidates.first() else {
        return Err(ImportError::Empty);
    };
    let mut chosen = None;
    for &(i, row) in &candidates {
        let known = row
            .cells
            .iter()
            .filter(|c| Field::of_header(&c.text).is_some())
            .count();
        if known >= 2 {
            chosen = Some((i, row));
            break;
        }
    }
    let (index, row) = match chosen {
        Some(c) => c,
        None if first_row
            .cells
            .iter()
            .any(|c| Field::of_header(&c.text).is_some()) =>
        {
            (first_index, first_row)
        }
        None => {
            let seen: Vec<&str> = first_row
                .cells
                .iter()
                .map(|c| c.text.trim())
                .filter(|t| !t.is_empty())
                .take(6)
                .collect();
            return Err(ImportError::NotARoster(format!(
                "前几行中没有表头（姓名、身份证号、社区、楼栋、房号…）；第{}行是「{}」 (no header row naming 姓名, 身份证号, 社区, 楼栋, 房号 … in the first rows; row {} reads {:?})",
                first_row.row,
                seen.join(","),
                first_row.row,
                seen.join(",")
            )));
        }
    };
    let header = Header::of_row(index, row)?;
    let missing: Vec<String> = Field::ALL
        .into_iter()
        .filter(|f| f.required() && !header.has(*f))
        .map(Field::label)
        .collect();
    if !missing.is_empty() {
        return Err(ImportError::MissingColumns(missing));
    }
    Ok(header)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::Cell;

    fn row(n: u32, cells: &[&str]) -> SheetRow {
        SheetRow {
            row: n,
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
    fn headers_normalise() {
        assert_eq!(normalise(" *身份证号（必填）"), "身份证号");
        assert_eq!(normalise("\u{feff}姓名 "), "姓名");
        assert_eq!(normalise("ID Number"), "id_number");
        assert_eq!(normalise("sub-district"), "sub_district");
        assert_eq!(Field::of_header("联系电话"), Some(Field::Phone));
        assert_eq!(Field::of_header("证件号码"), Some(Field::DocNumber));
        assert_eq!(Field::of_header("备注"), None);
    }

    #[test]
    fn finds_header_below_a_title_and_lists_unknown_columns() {
        let rows = vec![
            row(1, &["瓦屋李社区居民花名册"]),
            row(2, &[]),
            row(3, &["姓名", "身份证号", "社区", "楼栋", "房号", "备注"]),
        ];
        let h = locate(&rows).unwrap();
        assert_eq!((h.index, h.row), (2, 3));
        assert_eq!(h.col(Field::Room), Some(4));
        assert_eq!(h.unknown, vec!["备注".to_string()]);
        assert_eq!(h.text(Field::Unit), "单元");
    }

    #[test]
    fn file_level_header_errors() {
        let missing = locate(&[row(1, &["姓名", "身份证号", "社区"])]).unwrap_err();
        match missing {
            ImportError::MissingColumns(m) => {
                assert_eq!(
                    m,
                    vec!["楼栋 (building)".to_string(), "房号 (room)".to_string()]
                )
            }
            e => panic!("{e:?}"),
        }
        assert!(matches!(
            locate(&[row(1, &["a", "b"]), row(2, &["1", "2"])]),
            Err(ImportError::NotARoster(_))
        ));
        assert!(matches!(
            locate(&[row(1, &["姓名", "身份证号", "证件号码"])]),
            Err(ImportError::DuplicateColumn { .. })
        ));
        assert!(matches!(locate(&[row(1, &[" "])]), Err(ImportError::Empty)));
    }
}
