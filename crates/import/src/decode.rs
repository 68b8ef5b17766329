//! Bytes to a grid of text cells, numbered as the uploader sees them in
//! Excel, whatever the file was: CSV in UTF-8 (with or without BOM),
//! UTF-16 (Excel's "Unicode text"), GBK/GB18030 (Excel's plain "CSV" on
//! Chinese Windows), comma- or tab-separated; or the first sheet of an XLSX.

use crate::{ImportError, RosterFormat};
use calamine::{Data, Reader, Xlsx};
use encoding_rs::{Encoding, GB18030};
use std::borrow::Cow;
use std::io::Cursor;

/// The ZIP local-file signature every XLSX starts with.
const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
/// The OLE2 signature of the old binary `.xls`, which we do not read.
const OLE_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
/// Excel keeps 15 significant digits: an integer at or above this was
/// rounded when Excel turned the text into a number.
const EXCEL_EXACT_LIMIT: f64 = 1e15;

/// Damage Excel did to a cell before we saw it; the row checker turns it
/// into a row error on the columns where it matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mangle {
    /// A long digit string stored as a number and rounded to 15 digits.
    RoundedNumber,
    /// Text such as `3-1` that Excel turned into a date.
    Date,
    /// An Excel error value such as `#REF!`.
    ExcelError,
}

/// One cell's text, and what Excel did to it if anything.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Cell {
    pub text: String,
    pub mangle: Option<Mangle>,
}

impl Cell {
    fn text(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            mangle: None,
        }
    }
}

/// A row of the sheet with its Excel row number (1-based, counting blank
/// rows, so "row 7" in a report is row 7 on the uploader's screen).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SheetRow {
    pub row: u32,
    pub cells: Vec<Cell>,
}

impl SheetRow {
    /// Rows of nothing but whitespace (or `,,,,` as Excel saves empty
    /// rows) are skipped silently.
    pub fn is_blank(&self) -> bool {
        self.cells.iter().all(|c| c.text.trim().is_empty())
    }
}

/// The decoded sheet and how it was read, for the report.
#[derive(Debug, Clone)]
pub(crate) struct Sheet {
    pub rows: Vec<SheetRow>,
    pub format: &'static str,
    pub encoding: Option<&'static str>,
    pub warnings: Vec<String>,
}

/// Reads `input` as `format`, sniffing when asked to (and when a "CSV" is
/// really a workbook, which happens when a browser guesses the type).
pub(crate) fn read(input: &[u8], format: RosterFormat) -> Result<Sheet, ImportError> {
    if input.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ImportError::Empty);
    }
    if input.starts_with(OLE_MAGIC) {
        return Err(ImportError::Unreadable(
            "这是旧版 .xls 文件，请另存为 .xlsx 或 CSV (this is an old binary .xls workbook; save it as .xlsx or CSV)"
                .into(),
        ));
    }
    let is_zip = input.starts_with(ZIP_MAGIC);
    match format {
        RosterFormat::Auto if is_zip => read_xlsx(input),
        RosterFormat::Auto => read_csv(input),
        RosterFormat::Xlsx if is_zip => read_xlsx(input),
        RosterFormat::Xlsx => Err(ImportError::Unreadable(
            "不是 XLSX 工作簿 (not an XLSX workbook: it does not start with a ZIP signature)"
                .into(),
        )),
        RosterFormat::Csv if is_zip => {
            let mut sheet = read_xlsx(input)?;
            sheet.warnings.push(
                "文件以 CSV 上传但实为 XLSX 工作簿，已按 XLSX 读取 (sent as CSV but is an XLSX workbook; read as XLSX)"
                    .into(),
            );
            Ok(sheet)
        }
        RosterFormat::Csv => read_csv(input),
    }
}

/// Picks the text encoding: a BOM decides; else valid UTF-8 is UTF-8; else
/// GB18030, the superset of the GBK that Excel on Chinese Windows writes.
pub(crate) fn decode_text(input: &[u8]) -> Result<(Cow<'_, str>, &'static str), ImportError> {
    if let Some((enc, bom_len)) = Encoding::for_bom(input) {
        let (text, bad) = enc.decode_without_bom_handling(&input[bom_len..]);
        if bad {
            return Err(ImportError::Unreadable(format!(
                "文件有 {0} 字节顺序标记但内容不是有效的 {0} (the file starts with a {0} byte-order mark but is not valid {0})",
                enc.name()
            )));
        }
        let label = match enc.name() {
            "UTF-8" => "UTF-8 (BOM)",
            "UTF-16LE" => "UTF-16LE",
            _ => "UTF-16BE",
        };
        return Ok((text, label));
    }
    if let Ok(s) = std::str::from_utf8(input) {
        return Ok((Cow::Borrowed(s), "UTF-8"));
    }
    let (text, bad) = GB18030.decode_without_bom_handling(input);
    if bad {
        return Err(ImportError::Unreadable(
            "既不是 UTF-8 也不是 GBK/GB18030 文本 (the file is neither UTF-8 nor GBK/GB18030 text)"
                .into(),
        ));
    }
    Ok((text, "GB18030"))
}

/// Comma unless the first non-blank line has more tabs than commas
/// (Excel's "text (tab-separated)" and "Unicode text" exports).
fn delimiter(text: &str) -> u8 {
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let tabs = first.matches('\t').count();
    if tabs > 0 && tabs > first.matches(',').count() {
        b'\t'
    } else {
        b','
    }
}

fn read_csv(input: &[u8]) -> Result<Sheet, ImportError> {
    let (text, encoding) = decode_text(input)?;
    if text.contains('\0') {
        return Err(ImportError::Unreadable(
            "文件含有二进制内容 (the file holds binary data, not text)".into(),
        ));
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter(&text))
        .from_reader(text.as_bytes());
    let mut record = csv::StringRecord::new();
    let mut rows = Vec::new();
    // csv skips empty lines; Excel shows them as rows. Count line breaks
    // up to each record's first byte, less those inside quoted cells, so
    // the report's row numbers match the uploader's screen.
    let bytes = text.as_bytes();
    let mut scanned = 0usize;
    let mut breaks = 0usize;
    let mut inside_cells = 0usize;
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                return Err(ImportError::Unreadable(format!(
                    "CSV 格式错误 (malformed CSV): {e}"
                )));
            }
        }
        // The position may point at the previous record's terminator.
        let mut start = record
            .position()
            .map_or(scanned, |p| usize::try_from(p.byte()).unwrap_or(scanned))
            .clamp(scanned, bytes.len());
        while start < bytes.len() && matches!(bytes[start], b'\r' | b'\n') {
            start += 1;
        }
        breaks += line_breaks(&text[scanned..start]);
        scanned = start;
        let row = breaks + 1 - inside_cells.min(breaks);
        inside_cells += record.iter().map(line_breaks).sum::<usize>();
        rows.push(SheetRow {
            row: u32::try_from(row).unwrap_or(u32::MAX),
            cells: record.iter().map(Cell::text).collect(),
        });
    }
    Ok(Sheet {
        rows,
        format: "csv",
        encoding: Some(encoding),
        warnings: Vec::new(),
    })
}

/// Line breaks in `s`: CRLF, LF and a lone CR (old Mac Excel) count one each.
fn line_breaks(s: &str) -> usize {
    let b = s.as_bytes();
    b.iter()
        .enumerate()
        .filter(|&(i, &c)| c == b'\n' || (c == b'\r' && b.get(i + 1) != Some(&b'\n')))
        .count()
}

fn read_xlsx(input: &[u8]) -> Result<Sheet, ImportError> {
    let mut book = Xlsx::new(Cursor::new(input)).map_err(|e| {
        ImportError::Unreadable(format!(
            "无法打开 XLSX 工作簿 (cannot open the XLSX workbook): {e}"
        ))
    })?;
    let names = book.sheet_names();
    let range = book
        .worksheet_range_at(0)
        .ok_or_else(|| {
            ImportError::NotARoster("工作簿没有工作表 (the workbook has no sheet)".into())
        })?
        .map_err(|e| {
            ImportError::Unreadable(format!(
                "无法读取第一个工作表 (cannot read the first sheet): {e}"
            ))
        })?;
    let first_row = range.start().map_or(0, |(r, _)| r);
    let rows = range
        .rows()
        .enumerate()
        .map(|(i, cells)| SheetRow {
            row: first_row + i as u32 + 1,
            cells: cells.iter().map(cell_of).collect(),
        })
        .collect();
    let mut warnings = Vec::new();
    if names.len() > 1 {
        warnings.push(format!(
            "只读取了第一个工作表「{}」，其余 {} 个已忽略 (only the first sheet was read; {} other sheets ignored)",
            names[0],
            names.len() - 1,
            names.len() - 1
        ));
    }
    Ok(Sheet {
        rows,
        format: "xlsx",
        encoding: None,
        warnings,
    })
}

/// Renders a cell as the text the uploader typed: integers without `.0`,
/// and a note when Excel rounded or re-typed the value.
pub(crate) fn cell_of(data: &Data) -> Cell {
    match data {
        Data::Empty => Cell::default(),
        Data::String(s) => Cell::text(s.as_str()),
        Data::Int(i) => Cell::text(i.to_string()),
        Data::Float(f) => number_cell(*f),
        Data::Bool(b) => Cell::text(if *b { "TRUE" } else { "FALSE" }),
        Data::DateTime(d) => Cell {
            text: d.as_f64().to_string(),
            mangle: Some(Mangle::Date),
        },
        Data::DateTimeIso(s) | Data::DurationIso(s) => Cell {
            text: s.clone(),
            mangle: Some(Mangle::Date),
        },
        Data::Error(e) => Cell {
            text: e.to_string(),
            mangle: Some(Mangle::ExcelError),
        },
    }
}

fn number_cell(f: f64) -> Cell {
    if f.is_finite() && f.fract() == 0.0 {
        let text = format!("{f:.0}");
        let mangle = (f.abs() >= EXCEL_EXACT_LIMIT).then_some(Mangle::RoundedNumber);
        Cell { text, mangle }
    } else {
        Cell::text(f.to_string())
    }
}

/// Whether CSV text is a number Excel printed in scientific notation
/// (`4.10105E+17`): what a long ID looks like after Excel saved it.
pub(crate) fn is_scientific(text: &str) -> bool {
    let t = text.trim();
    let Some((mantissa, exp)) = t.split_once(['E', 'e']) else {
        return false;
    };
    let exp = exp.strip_prefix('+').unwrap_or(exp);
    !mantissa.is_empty()
        && mantissa.chars().all(|c| c.is_ascii_digit() || c == '.')
        && mantissa.chars().next().is_some_and(|c| c.is_ascii_digit())
        && !exp.is_empty()
        && exp.chars().all(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(sheet: &Sheet) -> Vec<(u32, Vec<String>)> {
        sheet
            .rows
            .iter()
            .map(|r| (r.row, r.cells.iter().map(|c| c.text.clone()).collect()))
            .collect()
    }

    #[test]
    fn encodings_are_detected() {
        let s = "姓名,房号\r\n欧阳娜娜,301\r\n";
        let mut bom = vec![0xEF, 0xBB, 0xBF];
        bom.extend_from_slice(s.as_bytes());
        let (gbk, _, _) = encoding_rs::GBK.encode(s);
        let mut utf16 = vec![0xFF, 0xFE];
        for u in s.encode_utf16() {
            utf16.extend_from_slice(&u.to_le_bytes());
        }
        for (bytes, label) in [
            (s.as_bytes().to_vec(), "UTF-8"),
            (bom, "UTF-8 (BOM)"),
            (gbk.into_owned(), "GB18030"),
            (utf16, "UTF-16LE"),
        ] {
            let (text, enc) = decode_text(&bytes).unwrap();
            assert_eq!(enc, label);
            assert_eq!(text, s, "{label}");
        }
        assert!(decode_text(&[0x81, 0xFF, 0x80]).is_err());
    }

    #[test]
    fn csv_rows_count_blank_lines_and_multiline_cells() {
        let s = "姓名,备注\r\n张三,\"两行\n备注\"\r\n\r\n,,\r\n李四,\"a,b\"\r\n";
        let sheet = read(s.as_bytes(), RosterFormat::Csv).unwrap();
        let t = texts(&sheet);
        assert_eq!(t[0].0, 1);
        assert_eq!(
            t[1],
            (2, vec!["张三".to_string(), "两行\n备注".to_string()])
        );
        // Row 3 is the empty line; row 4 the ",," line (kept, blank).
        assert_eq!(t[2].0, 4);
        assert!(sheet.rows[2].is_blank());
        assert_eq!(t[3], (5, vec!["李四".to_string(), "a,b".to_string()]));
        for other in [s.replace("\r\n", "\n"), s.replace("\r\n", "\r")] {
            let again = read(other.as_bytes(), RosterFormat::Csv).unwrap();
            let rows: Vec<u32> = again.rows.iter().map(|r| r.row).collect();
            assert_eq!(rows, vec![1, 2, 4, 5], "{other:?}");
        }
    }

    #[test]
    fn tabs_are_accepted() {
        let sheet = read("姓名\t房号\n王五\t1-1\n".as_bytes(), RosterFormat::Auto).unwrap();
        assert_eq!(texts(&sheet)[1].1, vec!["王五", "1-1"]);
    }

    #[test]
    fn numbers_render_like_excel_shows_them() {
        assert_eq!(number_cell(13812345678.0), Cell::text("13812345678"));
        assert_eq!(number_cell(301.0), Cell::text("301"));
        assert_eq!(number_cell(2.5), Cell::text("2.5"));
        let id = number_cell(410105199001011234.0);
        assert_eq!(id.mangle, Some(Mangle::RoundedNumber));
        assert!(is_scientific("4.10105E+17"));
        assert!(is_scientific("4E17"));
        assert!(!is_scientific("41010519900101123X"));
        assert!(!is_scientific("E12345678"));
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        assert!(matches!(
            read(b"  \r\n", RosterFormat::Auto),
            Err(ImportError::Empty)
        ));
        assert!(matches!(
            read(b"a,b", RosterFormat::Xlsx),
            Err(ImportError::Unreadable(_))
        ));
        assert!(matches!(
            read(b"PK\x03\x04garbage", RosterFormat::Auto),
            Err(ImportError::Unreadable(_))
        ));
        assert!(matches!(
            read(OLE_MAGIC, RosterFormat::Auto),
            Err(ImportError::Unreadable(_))
        ));
    }
}
