//! What an import did, for the HTTP API's JSON and the CLI's table. Holds
//! masked values only, so it can be logged and shown to anyone who may
//! see the upload's outcome. Deserialisable too, so HTTP tests and clients
//! can read the JSON back.

use serde::{Deserialize, Serialize};

/// The outcome of an import as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportStatus {
    /// The good rows were written (all rows, unless bad ones were skipped).
    Imported,
    /// Some rows were bad and skipping was not asked for: nothing written.
    Rejected,
    /// Checked only, nothing written; the counts say what a real import
    /// with the same options would have done.
    DryRun,
}

impl ImportStatus {
    /// Stable name, as in the JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ImportStatus::Imported => "imported",
            ImportStatus::Rejected => "rejected",
            ImportStatus::DryRun => "dry_run",
        }
    }
}

/// One problem with one cell of one row. A row may have several.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowError {
    /// The row number as Excel shows it (the header is row 1).
    pub row: u32,
    /// The column's header text as written in the file.
    pub column: String,
    /// The offending value, with ID numbers and phones masked
    /// (`410105********1234`, `138****5678`); empty when the cell was.
    pub value_masked: String,
    /// Why, in Chinese with an English gloss.
    pub reason: String,
}

/// Everything the uploader needs to know about an import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    /// imported / rejected / dry_run.
    pub status: ImportStatus,
    /// "csv" or "xlsx", as read (not as declared).
    pub format: String,
    /// The text encoding detected for a CSV ("UTF-8", "UTF-8 (BOM)",
    /// "GB18030", "UTF-16LE"); `None` for XLSX.
    pub encoding: Option<String>,
    /// Non-blank data rows below the header.
    pub rows_total: usize,
    /// Rows written (or, for a dry run, that would be).
    pub rows_imported: usize,
    /// Rows with at least one error.
    pub rows_bad: usize,
    /// The bad rows left out of a `skip_bad_rows` import (Excel numbers);
    /// empty when nothing was imported.
    pub skipped_rows: Vec<u32>,
    /// Households created under existing buildings (or that would be).
    pub households_created: usize,
    /// The problems by row then column: the first
    /// [`crate::MAX_LISTED_ERRORS`] of them (`rows_bad` counts every bad row).
    pub errors: Vec<RowError>,
    /// How many problems a report lists at most.
    #[serde(default)]
    pub max_listed_errors: usize,
    /// Things that did not stop the import: unknown columns ignored, a
    /// title row skipped, other sheets ignored.
    pub warnings: Vec<String>,
}

/// Terminal columns a character takes: CJK and full-width forms take two,
/// so the CLI's table lines up under Chinese text.
fn display_width(s: &str) -> usize {
    s.chars()
        .map(|c| match c as u32 {
            0x1100..=0x115F
            | 0x2E80..=0x303E
            | 0x3041..=0x33FF
            | 0x3400..=0x4DBF
            | 0x4E00..=0x9FFF
            | 0xA000..=0xA4CF
            | 0xAC00..=0xD7A3
            | 0xF900..=0xFAFF
            | 0xFE30..=0xFE4F
            | 0xFF00..=0xFF60
            | 0xFFE0..=0xFFE6
            | 0x20000..=0x3FFFD => 2,
            _ => 1,
        })
        .sum()
}

fn pad(s: &str, width: usize) -> String {
    let w = display_width(s);
    format!("{s}{}", " ".repeat(width.saturating_sub(w)))
}

impl ImportReport {
    /// Whether the import wrote what it was asked to (true also for a
    /// skip_bad_rows import that skipped some rows); for the CLI's exit code.
    pub fn is_success(&self) -> bool {
        self.status != ImportStatus::Rejected
    }

    /// A plain-text summary and a table of errors, for the CLI.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        let headline = match self.status {
            ImportStatus::Imported if self.skipped_rows.is_empty() => {
                "花名册导入完成 (roster imported)".to_string()
            }
            ImportStatus::Imported => format!(
                "花名册已导入，跳过{}行错误数据 (roster imported; {} bad rows skipped)",
                self.skipped_rows.len(),
                self.skipped_rows.len()
            ),
            ImportStatus::Rejected => {
                "花名册有错误，已拒绝，未写入任何数据 (roster REJECTED: nothing was written)"
                    .to_string()
            }
            ImportStatus::DryRun => {
                "试运行，未写入任何数据 (dry run: nothing was written)".to_string()
            }
        };
        out.push_str(&headline);
        out.push('\n');
        let file = match &self.encoding {
            Some(e) => format!("{} {e}", self.format.to_uppercase()),
            None => self.format.to_uppercase(),
        };
        out.push_str(&format!("文件 (file): {file}\n"));
        let would = if self.status == ImportStatus::DryRun {
            "将"
        } else {
            "已"
        };
        out.push_str(&format!(
            "数据行 (rows): {} · 有错误 (bad): {} · {would}导入 (imported): {} · {would}新建户 (households created): {}\n",
            self.rows_total, self.rows_bad, self.rows_imported, self.households_created
        ));
        if !self.skipped_rows.is_empty() {
            let rows: Vec<String> = self.skipped_rows.iter().map(u32::to_string).collect();
            out.push_str(&format!("跳过的行 (skipped rows): {}\n", rows.join(", ")));
        }
        if !self.errors.is_empty() {
            let titles = ["行 row", "列 column", "值 value", "原因 reason"];
            let cells: Vec<[String; 4]> = self
                .errors
                .iter()
                .map(|e| {
                    [
                        e.row.to_string(),
                        e.column.clone(),
                        e.value_masked.replace(['\n', '\r'], " "),
                        e.reason.clone(),
                    ]
                })
                .collect();
            let mut widths = titles.map(display_width);
            for row in &cells {
                for (w, c) in widths.iter_mut().zip(row) {
                    *w = (*w).max(display_width(c));
                }
            }
            out.push('\n');
            let line = |cols: [&str; 4]| {
                format!(
                    "{} | {} | {} | {}\n",
                    " ".repeat(widths[0].saturating_sub(display_width(cols[0]))) + cols[0],
                    pad(cols[1], widths[1]),
                    pad(cols[2], widths[2]),
                    cols[3]
                )
            };
            out.push_str(&line(titles));
            out.push_str(&format!(
                "{}-+-{}-+-{}-+-{}\n",
                "-".repeat(widths[0]),
                "-".repeat(widths[1]),
                "-".repeat(widths[2]),
                "-".repeat(widths[3].min(40))
            ));
            for row in &cells {
                out.push_str(&line([&row[0], &row[1], &row[2], &row[3]]));
            }
        }
        if !self.warnings.is_empty() {
            out.push_str("\n提示 (warnings):\n");
            for w in &self.warnings {
                out.push_str(&format!("  - {w}\n"));
            }
        }
        if self.status == ImportStatus::Rejected {
            let good = self.rows_total - self.rows_bad;
            out.push_str(&format!(
                "\n请修改以上各行后重新导入，或使用 --skip-bad-rows 只导入其余{good}行 (fix these rows and import again, or use --skip-bad-rows to import the other {good} rows)\n"
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_count_cjk_double() {
        assert_eq!(display_width("楼栋"), 4);
        assert_eq!(display_width("1号楼"), 5);
        assert_eq!(display_width("买买提·艾力"), 11);
    }

    #[test]
    fn text_table_lines_up() {
        let report = ImportReport {
            status: ImportStatus::Rejected,
            format: "csv".into(),
            encoding: Some("GB18030".into()),
            rows_total: 5,
            rows_imported: 0,
            rows_bad: 2,
            skipped_rows: vec![],
            households_created: 0,
            max_listed_errors: crate::MAX_LISTED_ERRORS,
            errors: vec![
                RowError {
                    row: 3,
                    column: "身份证号".into(),
                    value_masked: "410105********1231".into(),
                    reason: "身份证号校验位错误 (check digit wrong: expected X, found 1)".into(),
                },
                RowError {
                    row: 12,
                    column: "楼栋".into(),
                    value_masked: "99号楼".into(),
                    reason: "找不到楼栋".into(),
                },
            ],
            warnings: vec!["未识别的列「备注」已忽略".into()],
        };
        let text = report.render_text();
        assert!(text.contains("REJECTED"), "{text}");
        assert!(text.contains("CSV GB18030"));
        assert!(text.contains("--skip-bad-rows"));
        let table: Vec<&str> = text.lines().filter(|l| l.contains(" | ")).collect();
        assert_eq!(table.len(), 3, "{text}");
        let bar = |l: &str| display_width(&l[..l.find(" | ").unwrap()]);
        assert!(table.iter().all(|l| bar(l) == bar(table[0])), "{text}");
        let second = |l: &str| {
            let rest = l.splitn(3, " | ").take(2).collect::<Vec<_>>().join(" | ");
            display_width(&rest)
        };
        assert!(
            table.iter().all(|l| second(l) == second(table[0])),
            "{text}"
        );
        assert!(!report.is_success());
    }
}
