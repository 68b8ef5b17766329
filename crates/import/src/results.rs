//! Lab result sheets: the CSV or XLSX a lab's system exports (tube
//! barcode, outcome, Ct per target), parsed row by row into pipeline
//! commands. Applying them is the store's job; this module only reads and
//! reports, with the same row numbering as the roster import.

use crate::decode::{self, SheetRow};
use crate::{ImportError, RosterFormat, RowError};
use gridsweep_domain::Barcode;
use gridsweep_domain::pipeline::{CtValues, Outcome};
use serde::Serialize;

const TUBE: &[&str] = &[
    "管号",
    "条码",
    "试管条码",
    "样本编号",
    "采样管编号",
    "tube",
    "barcode",
];
const OUTCOME: &[&str] = &["结果", "检测结果", "outcome", "result"];
const ORF1AB: &[&str] = &[
    "orf1ab",
    "orf1ab ct",
    "orf1ab基因",
    "orf1ab基因ct值",
    "ct_orf1ab",
];
const N: &[&str] = &["n", "n ct", "n基因", "n基因ct值", "ct_n"];

/// One good row of a result sheet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResultLine {
    /// Row number as Excel shows it.
    pub row: u32,
    pub tube: String,
    /// `None`: derive it from the Ct values by the configured cut-offs.
    pub outcome: Option<Outcome>,
    pub ct: CtValues,
}

/// A parsed sheet: the good rows and every bad one.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ResultSheet {
    pub lines: Vec<ResultLine>,
    /// The first [`crate::MAX_LISTED_ERRORS`] problems, by row.
    pub errors: Vec<RowError>,
    /// Rows with at least one problem, all of them counted.
    pub rows_bad: usize,
    /// Non-blank rows below the header.
    pub rows_total: usize,
    /// The headers as written, for naming columns in errors.
    #[serde(skip)]
    pub tube_header: String,
}

fn norm(h: &str) -> String {
    h.trim()
        .to_lowercase()
        .replace(['（', '）', '(', ')'], " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn find(headers: &[String], aliases: &[&str]) -> Option<usize> {
    headers
        .iter()
        .position(|h| aliases.contains(&norm(h).as_str()))
}

/// A Ct cell: a number, or one of the ways labs write "not detected".
fn ct_cell(raw: &str) -> Result<Option<f64>, String> {
    let t = raw.trim();
    if t.is_empty()
        || matches!(
            t,
            "-" | "—"
                | "/"
                | "未检出"
                | "阴性"
                | "N/A"
                | "NA"
                | "ND"
                | "nd"
                | "Undetermined"
                | "No Ct"
        )
    {
        return Ok(None);
    }
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() && (0.0..=60.0).contains(&v) => Ok(Some(v)),
        _ => Err(format!(
            "Ct 值应为 0–60 的数字或“未检出” (Ct must be a number 0–60 or not detected), got {t:?}"
        )),
    }
}

/// Reads a result sheet. File-level problems (unreadable, no tube column)
/// are errors; row-level ones are listed in the sheet.
pub fn parse_results(input: &[u8], format: RosterFormat) -> Result<ResultSheet, ImportError> {
    let sheet = decode::read(input, format)?;
    let mut rows = sheet.rows.into_iter().filter(|r| !r.is_blank());
    let header: SheetRow = rows
        .next()
        .ok_or_else(|| ImportError::NotARoster("没有表头 (no header row)".into()))?;
    let headers: Vec<String> = header
        .cells
        .iter()
        .map(|c| c.text.trim().to_string())
        .collect();
    let tube_col = find(&headers, TUBE)
        .ok_or_else(|| ImportError::MissingColumns(vec!["管号 (tube)".into()]))?;
    let outcome_col = find(&headers, OUTCOME);
    let orf_col = find(&headers, ORF1AB);
    let n_col = find(&headers, N);
    if outcome_col.is_none() && orf_col.is_none() && n_col.is_none() {
        return Err(ImportError::MissingColumns(vec![
            "结果 (outcome) 或 Ct 值 (ORF1ab, N)".into(),
        ]));
    }
    let mut out = ResultSheet {
        tube_header: headers[tube_col].clone(),
        ..Default::default()
    };
    let mut seen: std::collections::HashMap<String, u32> = Default::default();
    for r in rows {
        out.rows_total += 1;
        let cell = |i: Option<usize>| {
            i.and_then(|i| r.cells.get(i))
                .map(|c| c.text.trim().to_string())
                .unwrap_or_default()
        };
        let mut errs = Vec::new();
        let raw_tube = cell(Some(tube_col));
        let tube = match Barcode::parse(&raw_tube) {
            Ok(b) => Some(b.as_str().to_string()),
            Err(e) => {
                errs.push((
                    headers[tube_col].clone(),
                    raw_tube.clone(),
                    format!("管号无效 (invalid tube barcode: {e})"),
                ));
                None
            }
        };
        let raw_outcome = cell(outcome_col);
        let outcome = if raw_outcome.is_empty() {
            None
        } else {
            match Outcome::parse(&raw_outcome) {
                Some(o) => Some(o),
                None => {
                    errs.push((
                        headers[outcome_col.unwrap_or(tube_col)].clone(),
                        raw_outcome.clone(),
                        "结果应为 阴性/初筛阳性/阳性/无效 (outcome must be negative, suspected, positive or invalid)".into(),
                    ));
                    None
                }
            }
        };
        let mut ct = CtValues::default();
        for (col, slot) in [(orf_col, &mut ct.orf1ab), (n_col, &mut ct.n)] {
            match ct_cell(&cell(col)) {
                Ok(v) => *slot = v,
                Err(reason) => {
                    errs.push((headers[col.unwrap_or(tube_col)].clone(), cell(col), reason))
                }
            }
        }
        if outcome.is_none() && raw_outcome.is_empty() && orf_col.is_none() && n_col.is_none() {
            errs.push((
                headers[tube_col].clone(),
                raw_tube.clone(),
                "缺少结果 (no outcome and no Ct values)".into(),
            ));
        }
        if let Some(t) = &tube
            && let Some(first) = seen.insert(t.clone(), r.row)
        {
            errs.push((
                headers[tube_col].clone(),
                t.clone(),
                format!("管号与第 {first} 行重复 (same tube as row {first})"),
            ));
        }
        if errs.is_empty() {
            out.lines.push(ResultLine {
                row: r.row,
                tube: tube.unwrap_or_default(),
                outcome,
                ct,
            });
        } else {
            out.rows_bad += 1;
            let room = crate::MAX_LISTED_ERRORS.saturating_sub(out.errors.len());
            out.errors
                .extend(
                    errs.into_iter()
                        .take(room)
                        .map(|(column, value, reason)| RowError {
                            row: r.row,
                            column,
                            value_masked: value,
                            reason,
                        }),
                );
        }
    }
    if out.rows_total == 0 {
        return Err(ImportError::Empty);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gbk_sheet_with_chinese_words() {
        let text = "管号,结果,ORF1ab,N\nGS-0001,阴性,未检出,未检出\nGS-0002,,36.2,37.9\nGS 3,阴性,,\nGS-0004,大概,,\nGS-0005,阴性,99,\nGS-0001,阴性,,\n";
        let (gbk, _, _) = encoding_rs::GBK.encode(text);
        let s = parse_results(&gbk, RosterFormat::Csv).unwrap();
        assert_eq!(s.rows_total, 6);
        assert_eq!(s.lines.len(), 2);
        assert_eq!(s.lines[0].outcome, Some(Outcome::Negative));
        assert_eq!(s.lines[1].outcome, None);
        assert_eq!(s.lines[1].ct.orf1ab, Some(36.2));
        let rows: Vec<u32> = s.errors.iter().map(|e| e.row).collect();
        assert_eq!(rows, vec![4, 5, 6, 7]);
        assert!(s.errors[3].reason.contains("row 2"));
    }

    #[test]
    fn file_level_errors() {
        assert!(matches!(
            parse_results(b"a,b\n1,2\n", RosterFormat::Csv),
            Err(ImportError::MissingColumns(_))
        ));
        assert!(matches!(
            parse_results(b"  ", RosterFormat::Csv),
            Err(ImportError::Empty)
        ));
    }
}
