//! The district as the roster knows it: areas, sites, persons.

use super::*;
use crate::rows::first;
use gridsweep_domain::PersonId;
use gridsweep_storage::codec;

impl PopulationStore for SqliteStore {
    fn allocate_ids(&self, kind: IdKind, n: u64) -> StoreResult<i64> {
        let n = i64::try_from(n).map_err(|_| StoreError::Backend("too many ids".into()))?;
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO id_counters(kind, next_id) VALUES (?1, 1) ON CONFLICT DO NOTHING",
                [kind.as_str()],
            )
            .map_err(db_err)?;
            tx.query_row(
                "UPDATE id_counters SET next_id = next_id + ?2 WHERE kind = ?1 RETURNING next_id - ?2",
                params![kind.as_str(), n],
                |r| r.get(0),
            )
            .map_err(db_err)
        })
    }

    fn write_population(&self, batch: &PopulationBatch) -> StoreResult<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let batch = batch.clone();
        self.write(move |tx| {
            let mut area = tx
                .prepare_cached(
                    "INSERT INTO areas(id, parent_id, level, name, path) VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .map_err(db_err)?;
            for a in &batch.areas {
                area.execute(params![
                    a.id.get(),
                    a.parent.map(AreaId::get),
                    a.level.as_str(),
                    a.name,
                    a.path.as_str()
                ])
                .map_err(db_err)?;
            }
            let mut site = tx
                .prepare_cached(
                    "INSERT INTO sites(id, area_id, area_path, kind, name) VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .map_err(db_err)?;
            for s in &batch.sites {
                site.execute(params![
                    s.id,
                    s.area.get(),
                    s.area_path.as_str(),
                    s.kind.as_str(),
                    s.name
                ])
                .map_err(db_err)?;
            }
            let mut person = tx
                .prepare_cached(&format!(
                    "INSERT INTO persons({PERSON_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
                ))
                .map_err(db_err)?;
            let mut aff = tx
                .prepare_cached(
                    "INSERT INTO affiliations(person_id, area_id, kind) VALUES (?1, ?2, ?3)",
                )
                .map_err(db_err)?;
            for p in &batch.persons {
                person
                    .execute(params![
                        p.id.0,
                        p.name.as_str(),
                        p.document.kind().as_str(),
                        p.document.number(),
                        p.gender.map(|g| g.as_str()),
                        p.birth_date,
                        p.phone.as_ref().map(|p| p.as_str()),
                        p.household.get(),
                        p.household_path.as_str()
                    ])
                    .map_err(db_err)?;
                for a in &p.affiliations {
                    aff.execute(params![p.id.0, a.area.get(), a.kind.as_str()])
                        .map_err(db_err)?;
                }
            }
            let mut count = tx
                .prepare_cached("UPDATE areas SET resident_count = resident_count + ?2 WHERE id = ?1")
                .map_err(db_err)?;
            for (id, delta) in batch.resident_deltas() {
                let n = count.execute(params![id.get(), delta]).map_err(db_err)?;
                if n != 1 {
                    return Err(StoreError::NotFound(format!("area {id}")));
                }
            }
            Ok(())
        })
    }

    fn area(&self, id: AreaId) -> StoreResult<Option<AreaNode>> {
        self.read(|c| {
            c.prepare_cached(&format!("SELECT {AREA_COLS} FROM areas WHERE id = ?1"))
                .map_err(db_err)?
                .query_row([id.get()], rows::area)
                .optional()
                .map_err(db_err)?
                .transpose()
        })
    }

    fn areas(&self, ids: &[AreaId]) -> StoreResult<Vec<AreaNode>> {
        self.read(|c| {
            let mut stmt = c
                .prepare_cached(&format!("SELECT {AREA_COLS} FROM areas WHERE id = ?1"))
                .map_err(db_err)?;
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                if let Some(a) = stmt
                    .query_row([id.get()], rows::area)
                    .optional()
                    .map_err(db_err)?
                {
                    out.push(a?);
                }
            }
            Ok(out)
        })
    }

    fn children(&self, id: AreaId) -> StoreResult<Vec<AreaNode>> {
        self.read(|c| {
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {AREA_COLS} FROM areas WHERE parent_id = ?1 ORDER BY name"
                ))
                .map_err(db_err)?;
            rows::collect(stmt.query_map([id.get()], rows::area))
        })
    }

    fn roots(&self) -> StoreResult<Vec<AreaNode>> {
        self.read(|c| {
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {AREA_COLS} FROM areas WHERE parent_id IS NULL ORDER BY id"
                ))
                .map_err(db_err)?;
            rows::collect(stmt.query_map([], rows::area))
        })
    }

    fn find_areas(
        &self,
        within: Option<&AreaPath>,
        name: &str,
        levels: &[AreaLevel],
    ) -> StoreResult<Vec<AreaNode>> {
        let (lo, hi) = match within {
            Some(p) => (p.as_str().to_string(), p.range_end()),
            None => ("/".to_string(), "0".to_string()),
        };
        let all = self.read(|c| {
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {AREA_COLS} FROM areas WHERE name = ?1 AND path >= ?2 AND path < ?3 ORDER BY id"
                ))
                .map_err(db_err)?;
            rows::collect(stmt.query_map(params![name, lo, hi], rows::area))
        })?;
        Ok(all
            .into_iter()
            .filter(|a| levels.contains(&a.level))
            .collect())
    }

    fn child_by_name(&self, parent: AreaId, name: &str) -> StoreResult<Option<AreaNode>> {
        self.read(|c| {
            c.prepare_cached(&format!(
                "SELECT {AREA_COLS} FROM areas WHERE parent_id = ?1 AND name = ?2"
            ))
            .map_err(db_err)?
            .query_row(params![parent.get(), name], rows::area)
            .optional()
            .map_err(db_err)?
            .transpose()
        })
    }

    fn search_persons(
        &self,
        within: &AreaPath,
        query: &str,
        limit: u32,
    ) -> StoreResult<Vec<PersonRecord>> {
        let query = query.trim();
        if query.is_empty() {
            return Ok(Vec::new());
        }
        let lo = within.as_str();
        let hi = within.range_end();
        let name_hi = format!("{query}\u{10FFFF}");
        self.read(|c| {
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {PERSON_COLS} FROM persons
                     WHERE ((name >= ?1 AND name < ?2) OR doc_number = ?3)
                       AND area_path >= ?4 AND area_path < ?5
                     ORDER BY name, id LIMIT ?6"
                ))
                .map_err(db_err)?;
            let found = rows::collect(stmt.query_map(
                params![query, name_hi, query.to_ascii_uppercase(), lo, hi, limit],
                rows::person,
            ))?;
            rows::with_affiliations(c, found)
        })
    }

    fn person_by_document(
        &self,
        kind: DocumentKind,
        number: &str,
    ) -> StoreResult<Option<PersonRecord>> {
        self.read(|c| {
            let found = c
                .prepare_cached(&format!(
                    "SELECT {PERSON_COLS} FROM persons WHERE doc_number = ?1 AND doc_kind = ?2"
                ))
                .map_err(db_err)?
                .query_row(params![number, kind.as_str()], rows::person)
                .optional()
                .map_err(db_err)?
                .transpose()?;
            Ok(rows::with_affiliations(c, found.into_iter().collect())?.pop())
        })
    }

    fn existing_documents(&self, docs: &[(DocumentKind, String)]) -> StoreResult<Vec<String>> {
        self.read(|c| {
            let mut stmt = c
                .prepare_cached("SELECT 1 FROM persons WHERE doc_number = ?1 AND doc_kind = ?2")
                .map_err(db_err)?;
            let mut out = Vec::new();
            for (kind, number) in docs {
                if stmt
                    .exists(params![number, kind.as_str()])
                    .map_err(db_err)?
                {
                    out.push(number.clone());
                }
            }
            Ok(out)
        })
    }

    fn person(&self, id: PersonId) -> StoreResult<Option<PersonRecord>> {
        self.read(|c| {
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {} FROM persons WHERE id = ?1",
                    crate::PERSON_COLS
                ))
                .map_err(db_err)?;
            let found = first(&mut stmt, [id.0], codec::person_record)?;
            Ok(rows::with_affiliations(c, found.into_iter().collect())?.pop())
        })
    }

    fn residents_of(&self, within: &AreaPath, limit: u32) -> StoreResult<Vec<PersonRecord>> {
        self.read(|c| {
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {PERSON_COLS} FROM persons
                     WHERE area_path >= ?1 AND area_path < ?2 ORDER BY id LIMIT ?3"
                ))
                .map_err(db_err)?;
            let found = rows::collect(stmt.query_map(
                params![within.as_str(), within.range_end(), limit],
                rows::person,
            ))?;
            rows::with_affiliations(c, found)
        })
    }

    fn affiliates_of(&self, area: AreaId, limit: u32) -> StoreResult<Vec<PersonRecord>> {
        self.read(|c| {
            let cols = PERSON_COLS
                .split(", ")
                .map(|col| format!("p.{col}"))
                .collect::<Vec<_>>()
                .join(", ");
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {cols} FROM affiliations a JOIN persons p ON p.id = a.person_id
                     WHERE a.area_id = ?1 ORDER BY p.id LIMIT ?2"
                ))
                .map_err(db_err)?;
            let found = rows::collect(stmt.query_map(params![area.get(), limit], rows::person))?;
            rows::with_affiliations(c, found)
        })
    }

    fn sites(&self, within: &AreaPath) -> StoreResult<Vec<SiteRecord>> {
        self.read(|c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT id, area_id, kind, name FROM sites
                     WHERE area_path >= ?1 AND area_path < ?2 ORDER BY id",
                )
                .map_err(db_err)?;
            rows::collect(stmt.query_map(params![within.as_str(), within.range_end()], rows::site))
        })
    }

    fn site(&self, id: i64) -> StoreResult<Option<SiteRecord>> {
        self.read(|c| {
            let mut stmt = c
                .prepare_cached("SELECT id, area_id, kind, name FROM sites WHERE id = ?1")
                .map_err(db_err)?;
            first(&mut stmt, [id], codec::site_record)
        })
    }

    fn set_direct_results(&self, site: i64, allowed: bool) -> StoreResult<()> {
        self.write(move |c| {
            let n = c
                .execute(
                    "UPDATE sites SET direct_results = ?2 WHERE id = ?1",
                    params![site, allowed],
                )
                .map_err(db_err)?;
            if n == 0 {
                return Err(StoreError::NotFound(format!("site {site}")));
            }
            Ok(())
        })
    }

    fn stats(&self) -> StoreResult<StoreStats> {
        self.read(|c| {
            let count = |t: &str| -> StoreResult<i64> {
                c.query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0))
                    .map_err(db_err)
            };
            Ok(StoreStats {
                areas: count("areas")?,
                persons: count("persons")?,
                sites: count("sites")?,
            })
        })
    }
}
