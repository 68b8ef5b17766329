//! [`IncidentRowsTx`] on PostgreSQL: incidents, their tubes and members.

use crate::db_err;
use crate::pipeline_tx::PgTx;
use chrono::{DateTime, Utc};
use gridsweep_domain::{AreaId, PersonId};
use gridsweep_response::report::{IncidentInfo, MemberView, TubeRole};
use gridsweep_response::*;
use gridsweep_storage::codec::{self, INCIDENT_COLS, MEMBER_COLS, js, opt_js, tube_role_word};
use gridsweep_storage::incidents::IncidentRowsTx;
use gridsweep_storage::stamp::ms;
use gridsweep_storage::{StoreError, StoreResult};

impl IncidentRowsTx for PgTx<'_, '_> {
    fn serialize_responses(&mut self) -> StoreResult<()> {
        // A transaction-scoped advisory lock: released at commit or
        // rollback, so it cannot leak.
        self.0
            .execute("SELECT pg_advisory_xact_lock($1)", &[&0x6772_6964_7270_i64])
            .map_err(db_err)?;
        Ok(())
    }

    fn next_id(&mut self, kind: &str) -> StoreResult<i64> {
        self.ex(
            "INSERT INTO id_counters(kind, next_id) VALUES ($1, 1) ON CONFLICT DO NOTHING",
            &[&kind],
        )?;
        let r = self.q1(
            "UPDATE id_counters SET next_id = next_id + 1 WHERE kind = $1 RETURNING next_id - 1",
            &[&kind],
        )?;
        r.map(|r| r.get(0))
            .ok_or_else(|| StoreError::Backend("id counter vanished".into()))
    }

    fn insert_incident(&mut self, i: &IncidentInfo) -> StoreResult<()> {
        self.ex(
            &format!(
                "INSERT INTO incidents({INCIDENT_COLS}, area_id)
                 VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)"
            ),
            &[
                &i.id,
                &i.parent,
                &i.title,
                &js(&i.area)?,
                &i.status.as_str(),
                &ms(i.opened_at),
                &i.closed_at.map(ms),
                &i.trigger_tube,
                &opt_js(&i.case)?,
                &i.expansion_round,
                &i.retest_round,
                &i.area.id.get(),
            ],
        )?;
        Ok(())
    }

    fn update_incident(&mut self, i: &IncidentInfo) -> StoreResult<()> {
        self.ex(
            "UPDATE incidents SET status = $2, closed_at = $3, title = $4 WHERE id = $1",
            &[&i.id, &i.status.as_str(), &i.closed_at.map(ms), &i.title],
        )?;
        Ok(())
    }

    fn incident(&mut self, id: i64) -> StoreResult<Option<IncidentInfo>> {
        self.row(
            &format!("SELECT {INCIDENT_COLS} FROM incidents WHERE id = $1"),
            &[&id],
            codec::incident,
        )
    }

    fn incidents(&mut self) -> StoreResult<Vec<IncidentInfo>> {
        self.rows(
            &format!("SELECT {INCIDENT_COLS} FROM incidents ORDER BY id DESC"),
            &[],
            codec::incident,
        )
    }

    fn children_of(&mut self, parent: i64) -> StoreResult<Vec<i64>> {
        self.rows(
            "SELECT id FROM incidents WHERE parent_id = $1 ORDER BY id",
            &[&parent],
            |r| r.int("id"),
        )
    }

    fn open_incident_for_area(&mut self, area: AreaId) -> StoreResult<Option<i64>> {
        self.row(
            "SELECT id FROM incidents WHERE area_id = $1 AND status = 'open'
             AND parent_id IS NULL ORDER BY id DESC LIMIT 1",
            &[&area.get()],
            |r| r.int("id"),
        )
    }

    fn incident_for_round(&mut self, round: i64) -> StoreResult<Option<(i64, RoundRole)>> {
        self.row(
            "SELECT id, expansion_round FROM incidents
             WHERE expansion_round = $1 OR retest_round = $1 LIMIT 1",
            &[&round],
            |r| codec::incident_round(round, r),
        )
    }

    fn incident_of_tube(&mut self, tube: &str) -> StoreResult<Option<(i64, TubeRole)>> {
        self.row(
            "SELECT incident_id, role FROM incident_tubes WHERE tube = $1 LIMIT 1",
            &[&tube],
            codec::tube_incident,
        )
    }

    fn insert_incident_tube(
        &mut self,
        incident: i64,
        tube: &str,
        role: TubeRole,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.ex(
            "INSERT INTO incident_tubes(incident_id, tube, role, at) VALUES ($1,$2,$3,$4)
             ON CONFLICT DO NOTHING",
            &[&incident, &tube, &tube_role_word(role), &ms(at)],
        )?;
        Ok(())
    }

    fn incident_tubes(&mut self, incident: i64) -> StoreResult<Vec<(String, TubeRole)>> {
        self.rows(
            "SELECT tube, role FROM incident_tubes WHERE incident_id = $1 ORDER BY at, tube",
            &[&incident],
            codec::incident_tube,
        )
    }

    fn insert_member(
        &mut self,
        incident: i64,
        m: &MemberView,
        household: AreaId,
    ) -> StoreResult<()> {
        self.ex(
            "INSERT INTO incident_members(incident_id, person_id, person, kind, status, source,
             household_id, address, affiliations, seq)
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,
               (SELECT COALESCE(MAX(seq), 0) + 1 FROM incident_members WHERE incident_id = $1))",
            &[
                &incident,
                &m.person.id.0,
                &js(&m.person)?,
                &m.kind.as_str(),
                &m.status.as_str(),
                &m.source,
                &household.get(),
                &m.address,
                &js(&m.affiliations)?,
            ],
        )?;
        Ok(())
    }

    fn set_member_status(
        &mut self,
        incident: i64,
        person: PersonId,
        status: MemberStatus,
    ) -> StoreResult<()> {
        self.ex(
            "UPDATE incident_members SET status = $3 WHERE incident_id = $1 AND person_id = $2",
            &[&incident, &person.0, &status.as_str()],
        )?;
        Ok(())
    }

    fn members(&mut self, incident: i64) -> StoreResult<Vec<(MemberView, AreaId)>> {
        self.rows(
            &format!(
                "SELECT {MEMBER_COLS} FROM incident_members WHERE incident_id = $1 ORDER BY seq"
            ),
            &[&incident],
            codec::member,
        )
    }
}
