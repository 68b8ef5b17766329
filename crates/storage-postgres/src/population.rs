//! The district as the roster knows it: areas, sites, persons.

use super::*;
use crate::rows::opt;
use gridsweep_domain::PersonId;
use gridsweep_storage::codec;

impl PopulationStore for PgStore {
    fn allocate_ids(&self, kind: IdKind, n: u64) -> StoreResult<i64> {
        let n = i64::try_from(n).map_err(|_| StoreError::Backend("too many ids".into()))?;
        self.write(|tx| {
            tx.execute(
                "INSERT INTO id_counters(kind, next_id) VALUES ($1, 1) ON CONFLICT DO NOTHING",
                &[&kind.as_str()],
            )
            .map_err(db_err)?;
            let row = tx
                .query_one(
                    "UPDATE id_counters SET next_id = next_id + $2 WHERE kind = $1 RETURNING next_id - $2",
                    &[&kind.as_str(), &n],
                )
                .map_err(db_err)?;
            Ok(row.get(0))
        })
    }

    fn write_population(&self, batch: &PopulationBatch) -> StoreResult<()> {
        if batch.is_empty() {
            return Ok(());
        }
        self.write(|tx| {
            let mut buf = Vec::new();
            for a in &batch.areas {
                let id = a.id.to_string();
                let parent = a.parent.map(|p| p.to_string());
                copy_row(
                    &mut buf,
                    &[
                        Some(&id),
                        parent.as_deref(),
                        Some(a.level.as_str()),
                        Some(&a.name),
                        Some(a.path.as_str()),
                    ],
                );
            }
            copy_in(
                tx,
                "COPY areas (id, parent_id, level, name, path) FROM STDIN",
                &buf,
            )?;
            buf.clear();
            for s in &batch.sites {
                let (id, area) = (s.id.to_string(), s.area.to_string());
                copy_row(
                    &mut buf,
                    &[
                        Some(&id),
                        Some(&area),
                        Some(s.area_path.as_str()),
                        Some(s.kind.as_str()),
                        Some(&s.name),
                    ],
                );
            }
            copy_in(
                tx,
                "COPY sites (id, area_id, area_path, kind, name) FROM STDIN",
                &buf,
            )?;
            buf.clear();
            let mut affs = Vec::new();
            for p in &batch.persons {
                let (id, household) = (p.id.0.to_string(), p.household.to_string());
                copy_row(
                    &mut buf,
                    &[
                        Some(&id),
                        Some(p.name.as_str()),
                        Some(p.document.kind().as_str()),
                        Some(p.document.number()),
                        p.gender.map(|g| g.as_str()),
                        p.birth_date.as_deref(),
                        p.phone.as_ref().map(|p| p.as_str()),
                        Some(&household),
                        Some(p.household_path.as_str()),
                    ],
                );
                for a in &p.affiliations {
                    let area = a.area.to_string();
                    copy_row(&mut affs, &[Some(&id), Some(&area), Some(a.kind.as_str())]);
                }
            }
            copy_in(
                tx,
                &format!("COPY persons ({PERSON_COLS}) FROM STDIN"),
                &buf,
            )?;
            copy_in(
                tx,
                "COPY affiliations (person_id, area_id, kind) FROM STDIN",
                &affs,
            )?;
            let deltas = batch.resident_deltas();
            if !deltas.is_empty() {
                let ids: Vec<i64> = deltas.iter().map(|(id, _)| id.get()).collect();
                let ns: Vec<i64> = deltas.iter().map(|(_, n)| *n).collect();
                let updated = tx
                    .execute(
                        "UPDATE areas a SET resident_count = a.resident_count + d.n
                         FROM unnest($1::bigint[], $2::bigint[]) AS d(id, n) WHERE a.id = d.id",
                        &[&ids, &ns],
                    )
                    .map_err(db_err)?;
                if updated as usize != deltas.len() {
                    return Err(StoreError::NotFound("an area of a person's address".into()));
                }
            }
            Ok(())
        })
    }

    fn area(&self, id: AreaId) -> StoreResult<Option<AreaNode>> {
        self.with(|c| {
            c.query_opt(
                &format!("SELECT {AREA_COLS} FROM areas WHERE id = $1"),
                &[&id.get()],
            )
            .map_err(db_err)?
            .map(|r| rows::area(&r))
            .transpose()
        })
    }

    fn areas(&self, ids: &[AreaId]) -> StoreResult<Vec<AreaNode>> {
        let ids: Vec<i64> = ids.iter().map(|a| a.get()).collect();
        self.with(|c| {
            c.query(
                &format!("SELECT {AREA_COLS} FROM areas WHERE id = ANY($1)"),
                &[&ids],
            )
            .map_err(db_err)?
            .iter()
            .map(rows::area)
            .collect()
        })
    }

    fn children(&self, id: AreaId) -> StoreResult<Vec<AreaNode>> {
        self.with(|c| {
            c.query(
                &format!("SELECT {AREA_COLS} FROM areas WHERE parent_id = $1 ORDER BY name"),
                &[&id.get()],
            )
            .map_err(db_err)?
            .iter()
            .map(rows::area)
            .collect()
        })
    }

    fn roots(&self) -> StoreResult<Vec<AreaNode>> {
        self.with(|c| {
            c.query(
                &format!("SELECT {AREA_COLS} FROM areas WHERE parent_id IS NULL ORDER BY id"),
                &[],
            )
            .map_err(db_err)?
            .iter()
            .map(rows::area)
            .collect()
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
        let levels: Vec<&str> = levels.iter().map(|l| l.as_str()).collect();
        self.with(|c| {
            c.query(
                &format!(
                    "SELECT {AREA_COLS} FROM areas
                     WHERE name = $1 AND path >= $2 AND path < $3 AND level = ANY($4) ORDER BY id"
                ),
                &[&name, &lo, &hi, &levels],
            )
            .map_err(db_err)?
            .iter()
            .map(rows::area)
            .collect()
        })
    }

    fn child_by_name(&self, parent: AreaId, name: &str) -> StoreResult<Option<AreaNode>> {
        self.with(|c| {
            c.query_opt(
                &format!("SELECT {AREA_COLS} FROM areas WHERE parent_id = $1 AND name = $2"),
                &[&parent.get(), &name],
            )
            .map_err(db_err)?
            .map(|r| rows::area(&r))
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
        let name_hi = format!("{query}\u{10FFFF}");
        let upper = query.to_ascii_uppercase();
        self.with(|c| {
            let found: Vec<PersonRecord> = c
                .query(
                    &format!(
                        "SELECT {PERSON_COLS} FROM persons
                         WHERE ((name >= $1 AND name < $2) OR doc_number = $3)
                           AND area_path >= $4 AND area_path < $5
                         ORDER BY name, id LIMIT $6"
                    ),
                    &[
                        &query,
                        &name_hi,
                        &upper,
                        &within.as_str(),
                        &within.range_end(),
                        &i64::from(limit),
                    ],
                )
                .map_err(db_err)?
                .iter()
                .map(rows::person)
                .collect::<StoreResult<_>>()?;
            rows::with_affiliations(c, found)
        })
    }

    fn person_by_document(
        &self,
        kind: DocumentKind,
        number: &str,
    ) -> StoreResult<Option<PersonRecord>> {
        self.with(|c| {
            let found = c
                .query_opt(
                    &format!(
                        "SELECT {PERSON_COLS} FROM persons WHERE doc_number = $1 AND doc_kind = $2"
                    ),
                    &[&number, &kind.as_str()],
                )
                .map_err(db_err)?
                .map(|r| rows::person(&r))
                .transpose()?;
            Ok(rows::with_affiliations(c, found.into_iter().collect())?.pop())
        })
    }

    fn existing_documents(&self, docs: &[(DocumentKind, String)]) -> StoreResult<Vec<String>> {
        let numbers: Vec<&str> = docs.iter().map(|(_, n)| n.as_str()).collect();
        let kinds: Vec<&str> = docs.iter().map(|(k, _)| k.as_str()).collect();
        self.with(|c| {
            Ok(c.query(
                "SELECT p.doc_number FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS d(n, k, i)
                 JOIN persons p ON p.doc_number = d.n AND p.doc_kind = d.k ORDER BY d.i",
                &[&numbers, &kinds],
            )
            .map_err(db_err)?
            .iter()
            .map(|r| r.get(0))
            .collect())
        })
    }

    fn person(&self, id: PersonId) -> StoreResult<Option<PersonRecord>> {
        self.with(|c| {
            let row = c
                .query_opt(
                    &format!("SELECT {PERSON_COLS} FROM persons WHERE id = $1"),
                    &[&id.0],
                )
                .map_err(db_err)?;
            let found = opt(row, codec::person_record)?;
            Ok(rows::with_affiliations(c, found.into_iter().collect())?.pop())
        })
    }

    fn residents_of(&self, within: &AreaPath, limit: u32) -> StoreResult<Vec<PersonRecord>> {
        self.with(|c| {
            let found: Vec<PersonRecord> = c
                .query(
                    &format!(
                        "SELECT {PERSON_COLS} FROM persons
                         WHERE area_path >= $1 AND area_path < $2 ORDER BY id LIMIT $3"
                    ),
                    &[&within.as_str(), &within.range_end(), &i64::from(limit)],
                )
                .map_err(db_err)?
                .iter()
                .map(rows::person)
                .collect::<StoreResult<_>>()?;
            rows::with_affiliations(c, found)
        })
    }

    fn affiliates_of(&self, area: AreaId, limit: u32) -> StoreResult<Vec<PersonRecord>> {
        self.with(|c| {
            let cols = PERSON_COLS
                .split(", ")
                .map(|col| format!("p.{col}"))
                .collect::<Vec<_>>()
                .join(", ");
            let found: Vec<PersonRecord> = c
                .query(
                    &format!(
                        "SELECT {cols} FROM affiliations a JOIN persons p ON p.id = a.person_id
                         WHERE a.area_id = $1 ORDER BY p.id LIMIT $2"
                    ),
                    &[&area.get(), &i64::from(limit)],
                )
                .map_err(db_err)?
                .iter()
                .map(rows::person)
                .collect::<StoreResult<_>>()?;
            rows::with_affiliations(c, found)
        })
    }

    fn sites(&self, within: &AreaPath) -> StoreResult<Vec<SiteRecord>> {
        self.with(|c| {
            c.query(
                "SELECT id, area_id, kind, name FROM sites
                 WHERE area_path >= $1 AND area_path < $2 ORDER BY id",
                &[&within.as_str(), &within.range_end()],
            )
            .map_err(db_err)?
            .iter()
            .map(rows::site)
            .collect()
        })
    }

    fn site(&self, id: i64) -> StoreResult<Option<SiteRecord>> {
        self.with(|c| {
            let row = c
                .query_opt(
                    "SELECT id, area_id, kind, name FROM sites WHERE id = $1",
                    &[&id],
                )
                .map_err(db_err)?;
            opt(row, codec::site_record)
        })
    }

    fn set_direct_results(&self, site: i64, allowed: bool) -> StoreResult<()> {
        self.write(|tx| {
            let n = tx
                .execute(
                    "UPDATE sites SET direct_results = $2 WHERE id = $1",
                    &[&site, &allowed],
                )
                .map_err(db_err)?;
            if n == 0 {
                return Err(StoreError::NotFound(format!("site {site}")));
            }
            Ok(())
        })
    }

    fn stats(&self) -> StoreResult<StoreStats> {
        self.with(|c| {
            let r = c
                .query_one(
                    "SELECT (SELECT count(*) FROM areas), (SELECT count(*) FROM persons),
                            (SELECT count(*) FROM sites)",
                    &[],
                )
                .map_err(db_err)?;
            Ok(StoreStats {
                areas: r.get(0),
                persons: r.get(1),
                sites: r.get(2),
            })
        })
    }
}
