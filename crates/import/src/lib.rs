//! Roster import: residents from the CSV (UTF-8 or GBK, as Excel writes it)
//! or XLSX files that communities keep, checked row by row against the grid
//! tree already in the store, and written in one transaction or not at all.
//!
//! The path of a file: `decode` turns bytes into rows of text numbered as
//! Excel shows them; `header` finds which column is which; `row` validates
//! each row's person fields; `resolve` finds each row's building (and school
//! or employer) in the store; then [`import_roster`] decides, allocates ids,
//! and writes one [`PopulationBatch`]. `report` says what happened, with ID
//! numbers and phones masked. The format is documented for users in
//! `docs/roster-format.md`.
#![forbid(unsafe_code)]

/// Most row errors a report lists: a sheet that is wrong throughout (the
/// wrong file, a shifted column) is told so by its first errors and the
/// count of bad rows, not by an answer as large as the file.
pub const MAX_LISTED_ERRORS: usize = 200;

mod decode;
mod error;
mod header;
mod report;
mod resolve;
pub mod results;
mod row;

pub use error::ImportError;
pub use report::{ImportReport, ImportStatus, RowError};

use gridsweep_domain::{
    Affiliation, AffiliationKind, AreaId, AreaLevel, DocumentKind, PersonId, mask_document,
    mask_id_number,
};
use gridsweep_storage::{AreaNode, IdKind, NewArea, NewPerson, PopulationBatch, Store};
use header::{Field, Header};
use row::ParsedRow;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// How the bytes of a roster are to be read. `Auto` sniffs the ZIP
/// signature (`PK\x03\x04`) that every XLSX starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RosterFormat {
    /// XLSX if the bytes are a ZIP, else CSV.
    #[default]
    Auto,
    /// Comma- or tab-separated text; a workbook sent as CSV is still read
    /// as a workbook (with a warning), since browsers guess types.
    Csv,
    /// The first sheet of an Office Open XML workbook.
    Xlsx,
}

impl RosterFormat {
    /// The format an HTTP `Content-Type` names (`text/csv`,
    /// `application/vnd.openxmlformats-officedocument.spreadsheetml.sheet`);
    /// anything else (`application/octet-stream`, none) is `Auto`.
    pub fn from_content_type(content_type: &str) -> Self {
        let mime = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match mime.as_str() {
            "text/csv" | "text/plain" | "text/tab-separated-values" | "application/csv" => {
                RosterFormat::Csv
            }
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => {
                RosterFormat::Xlsx
            }
            _ => RosterFormat::Auto,
        }
    }

    /// The format a file name's extension names (`.csv`, `.txt`, `.tsv`,
    /// `.xlsx`), for the CLI; anything else is `Auto`.
    pub fn from_file_name(name: &str) -> Self {
        let ext = name
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase())
            .unwrap_or_default();
        match ext.as_str() {
            "csv" | "txt" | "tsv" => RosterFormat::Csv,
            "xlsx" => RosterFormat::Xlsx,
            _ => RosterFormat::Auto,
        }
    }
}

/// What the caller asks of an import. Deserialisable so the HTTP layer can
/// take it straight from `?skip_bad_rows=true&dry_run=false`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ImportOptions {
    /// Write the good rows even if some are bad (and list the skipped
    /// ones); by default a single bad row rejects the whole file.
    pub skip_bad_rows: bool,
    /// Check everything, write nothing.
    pub dry_run: bool,
}

/// How many documents to ask [`PopulationStore::existing_documents`](gridsweep_storage::PopulationStore::existing_documents) about at once.
const EXISTING_CHUNK: usize = 1000;

/// Imports a roster into `store`.
///
/// Every row is validated and resolved before anything is written. If any
/// row is bad and `opts.skip_bad_rows` is false, nothing is written and the
/// report (status `rejected`) lists every bad row; otherwise the good rows,
/// with the households they need, go to the store in one atomic
/// [`PopulationStore::write_population`](gridsweep_storage::PopulationStore::write_population) call. File-level problems (unreadable, not a
/// roster, a required column missing) and storage failures are `Err`.
pub fn import_roster(
    store: &dyn Store,
    input: &[u8],
    format: RosterFormat,
    opts: ImportOptions,
) -> Result<ImportReport, ImportError> {
    import_roster_within(store, input, format, opts, None)
}

/// [`import_roster`] for an account whose scope is the subtree `within`: a
/// row whose building lies outside it is a bad row like an unknown one, so
/// an account can add residents only where it may see them. `None` (the
/// operator's CLI on the database itself) takes the whole grid.
pub fn import_roster_within(
    store: &dyn Store,
    input: &[u8],
    format: RosterFormat,
    opts: ImportOptions,
    within: Option<&gridsweep_domain::AreaPath>,
) -> Result<ImportReport, ImportError> {
    let sheet = decode::read(input, format)?;
    let header = header::locate(&sheet.rows)?;
    let mut warnings = sheet.warnings.clone();
    let above: Vec<String> = sheet.rows[..header.index]
        .iter()
        .filter(|r| !r.is_blank())
        .map(|r| r.row.to_string())
        .collect();
    if !above.is_empty() {
        warnings.push(format!(
            "表头在第{}行，其上的第{}行已跳过 (the header is on row {}; rows {} above it were skipped)",
            header.row,
            above.join("、"),
            header.row,
            above.join(", ")
        ));
    }
    for u in &header.unknown {
        warnings.push(format!(
            "未识别的列「{u}」已忽略 (unknown column {u} ignored)"
        ));
    }

    let mut rows: Vec<ParsedRow> = sheet.rows[header.index + 1..]
        .iter()
        .filter(|r| !r.is_blank())
        .map(|r| row::parse(&header, r))
        .collect();
    let duplicates = mark_duplicates(&header, &mut rows);
    mark_existing(store, &header, &mut rows, &duplicates)?;
    let mut resolver = resolve::Resolver::new(store);
    let mut buildings = resolve_rows(&mut resolver, &header, &mut rows)?;
    if let Some(scope) = within {
        for (r, b) in rows.iter_mut().zip(buildings.iter_mut()) {
            if b.as_ref().is_some_and(|b| !b.path.is_within(scope)) {
                let value = r
                    .address
                    .as_ref()
                    .map(|a| a.building.clone())
                    .unwrap_or_default();
                let place = r.address.as_ref().map(|a| a.describe()).unwrap_or_default();
                r.flag(
                    &header,
                    Field::Building,
                    value,
                    format!("楼栋不在本账号的管辖范围内：{place} (building outside your scope)"),
                );
                *b = None;
            }
        }
    }

    let bad_rows: Vec<u32> = rows
        .iter()
        .filter(|r| !r.issues.is_empty())
        .map(|r| r.row)
        .collect();
    let proceed = bad_rows.is_empty() || opts.skip_bad_rows;
    let mut batch = PopulationBatch::default();
    let mut households_created = 0;
    let mut rows_imported = 0;
    if proceed {
        let good: Vec<(&ParsedRow, &AreaNode)> = rows
            .iter()
            .zip(&buildings)
            .filter(|(r, _)| r.issues.is_empty())
            .filter_map(|(r, b)| b.as_ref().map(|b| (r, b)))
            .collect();
        let plan = plan_households(&mut resolver, &good)?;
        households_created = plan.new.len();
        rows_imported = good.len();
        if !opts.dry_run && !good.is_empty() {
            batch = build_batch(store, &good, &plan)?;
        }
    }
    if !batch.is_empty() {
        store.write_population(&batch)?;
    }

    let status = if opts.dry_run {
        ImportStatus::DryRun
    } else if proceed {
        ImportStatus::Imported
    } else {
        ImportStatus::Rejected
    };
    let rows_bad = bad_rows.len();
    let errors = rows
        .iter_mut()
        .flat_map(|r| {
            r.issues.sort_by_key(|i| i.col);
            r.issues.drain(..).map(|i| i.error)
        })
        .take(MAX_LISTED_ERRORS)
        .collect();
    Ok(ImportReport {
        status,
        format: sheet.format.to_string(),
        encoding: sheet.encoding.map(str::to_string),
        rows_total: rows.len(),
        rows_imported,
        rows_bad,
        skipped_rows: if proceed { bad_rows } else { Vec::new() },
        households_created,
        errors,
        max_listed_errors: MAX_LISTED_ERRORS,
        warnings,
    })
}

/// Flags every later row holding a document an earlier row holds (the
/// first is kept); returns the indices flagged.
fn mark_duplicates(header: &Header, rows: &mut [ParsedRow]) -> Vec<bool> {
    let mut first: HashMap<(DocumentKind, String), u32> = HashMap::new();
    let mut flagged = vec![false; rows.len()];
    for (i, r) in rows.iter_mut().enumerate() {
        let Some(doc) = &r.document else { continue };
        let key = (doc.kind(), doc.number().to_string());
        match first.get(&key) {
            None => {
                first.insert(key, r.row);
            }
            Some(&earlier) => {
                let masked = doc.masked();
                let this = r.row;
                r.flag(
                    header,
                    Field::DocNumber,
                    masked,
                    format!(
                        "与第{earlier}行证件号码重复，第{earlier}行与第{this}行是同一证件 (duplicate: rows {earlier} and {this} hold the same document)"
                    ),
                );
                flagged[i] = true;
            }
        }
    }
    flagged
}

/// Flags rows whose document is already on the roster.
fn mark_existing(
    store: &dyn Store,
    header: &Header,
    rows: &mut [ParsedRow],
    duplicates: &[bool],
) -> Result<(), ImportError> {
    let candidates: Vec<usize> = (0..rows.len())
        .filter(|&i| rows[i].document.is_some() && !duplicates[i])
        .collect();
    for chunk in candidates.chunks(EXISTING_CHUNK) {
        let docs: Vec<(DocumentKind, String)> = chunk
            .iter()
            .filter_map(|&i| rows[i].document.as_ref())
            .map(|d| (d.kind(), d.number().to_string()))
            .collect();
        let found: std::collections::HashSet<String> =
            store.existing_documents(&docs)?.into_iter().collect();
        for &i in chunk {
            let r = &mut rows[i];
            let Some(doc) = &r.document else { continue };
            if found.contains(doc.number()) {
                let masked = match doc.kind() {
                    DocumentKind::ResidentId => mask_id_number(doc.number()),
                    _ => mask_document(doc.number()),
                };
                r.flag(
                    header,
                    Field::DocNumber,
                    masked,
                    "此证件已在花名册中 (already on the roster)".into(),
                );
            }
        }
    }
    Ok(())
}

/// Finds each row's building and affiliations, flagging what is unknown
/// or ambiguous; returns the building per row.
fn resolve_rows(
    resolver: &mut resolve::Resolver<'_>,
    header: &Header,
    rows: &mut [ParsedRow],
) -> Result<Vec<Option<AreaNode>>, ImportError> {
    let mut buildings = Vec::with_capacity(rows.len());
    for r in rows.iter_mut() {
        let mut building = None;
        if let Some(addr) = &r.address {
            match resolver.building(addr)? {
                Ok(b) => building = Some(b),
                Err(m) => r.flag(header, m.field, m.value, m.reason),
            }
        }
        buildings.push(building);
        for (kind, name) in [
            (AffiliationKind::Student, r.school.clone()),
            (AffiliationKind::Employee, r.employer.clone()),
        ] {
            let Some(name) = name else { continue };
            match resolver.affiliation(kind, &name)? {
                Ok(area) => r.affiliations.push(Affiliation {
                    area: area.id,
                    kind,
                }),
                Err(m) => r.flag(header, m.field, m.value, m.reason),
            }
        }
    }
    Ok(buildings)
}

/// Where each good row lives: an existing household, or the index of a new
/// one (several rows of one room share it).
struct HouseholdPlan {
    per_row: Vec<Home>,
    /// New households: (building, name), in order of first use.
    new: Vec<(AreaNode, String)>,
}

enum Home {
    Existing(AreaNode),
    New(usize),
}

fn plan_households(
    resolver: &mut resolve::Resolver<'_>,
    good: &[(&ParsedRow, &AreaNode)],
) -> Result<HouseholdPlan, ImportError> {
    let mut plan = HouseholdPlan {
        per_row: Vec::with_capacity(good.len()),
        new: Vec::new(),
    };
    let mut index: HashMap<(AreaId, String), usize> = HashMap::new();
    for (r, building) in good {
        let name = r.household.clone().unwrap_or_default();
        let home = match resolver.household(building, &name)? {
            Some(h) => Home::Existing(h),
            None => {
                let next = plan.new.len();
                let i = *index.entry((building.id, name.clone())).or_insert(next);
                if i == next {
                    plan.new.push(((*building).clone(), name));
                }
                Home::New(i)
            }
        };
        plan.per_row.push(home);
    }
    Ok(plan)
}

/// Allocates ids and assembles the one batch to write.
fn build_batch(
    store: &dyn Store,
    good: &[(&ParsedRow, &AreaNode)],
    plan: &HouseholdPlan,
) -> Result<PopulationBatch, ImportError> {
    let mut batch = PopulationBatch::default();
    if !plan.new.is_empty() {
        let first = store.allocate_ids(IdKind::Area, plan.new.len() as u64)?;
        for (i, (building, name)) in plan.new.iter().enumerate() {
            let id = area_id(first + i as i64)?;
            let area = NewArea::child(
                building.id,
                building.level,
                &building.path,
                id,
                AreaLevel::Household,
                name,
            )
            .map_err(|e| {
                ImportError::Storage(gridsweep_storage::StoreError::Corrupt(e.to_string()))
            })?;
            batch.areas.push(area);
        }
    }
    let first_person = store.allocate_ids(IdKind::Person, good.len() as u64)?;
    for (i, ((r, _), home)) in good.iter().zip(&plan.per_row).enumerate() {
        let (household, household_path) = match home {
            Home::Existing(h) => (h.id, h.path.clone()),
            Home::New(j) => (batch.areas[*j].id, batch.areas[*j].path.clone()),
        };
        let (Some(name), Some(document)) = (r.name.clone(), r.document.clone()) else {
            continue;
        };
        batch.persons.push(NewPerson {
            id: PersonId(first_person + i as i64),
            name,
            document,
            gender: r.gender,
            birth_date: r.birth_date.clone(),
            phone: r.phone.clone(),
            household,
            household_path,
            affiliations: r.affiliations.clone(),
        });
    }
    Ok(batch)
}

fn area_id(raw: i64) -> Result<AreaId, ImportError> {
    AreaId::new(raw).map_err(|e| {
        ImportError::Storage(gridsweep_storage::StoreError::Corrupt(format!(
            "allocated area id: {e}"
        )))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_from_content_type_and_file_name() {
        assert_eq!(
            RosterFormat::from_content_type("text/csv; charset=gbk"),
            RosterFormat::Csv
        );
        assert_eq!(
            RosterFormat::from_content_type(
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            ),
            RosterFormat::Xlsx
        );
        assert_eq!(
            RosterFormat::from_content_type("application/octet-stream"),
            RosterFormat::Auto
        );
        assert_eq!(
            RosterFormat::from_file_name("花名册.XLSX"),
            RosterFormat::Xlsx
        );
        assert_eq!(
            RosterFormat::from_file_name("roster.csv"),
            RosterFormat::Csv
        );
        assert_eq!(RosterFormat::from_file_name("roster"), RosterFormat::Auto);
    }
}
