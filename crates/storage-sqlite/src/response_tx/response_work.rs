//! [`ResponseWorkTx`] on SQLite: orders, tasks, decisions, the timeline and pool blocks.

use crate::db_err;
use crate::pipeline_tx::SqliteTx;
use gridsweep_response::report::{DecisionView, EntryView, OrderView, TaskView};
use gridsweep_storage::StoreResult;
use gridsweep_storage::codec::{self, DECISION_COLS, ORDER_COLS, TASK_COLS, js, opt_js};
use gridsweep_storage::incidents::{PoolBlock, ResponseWorkTx};
use gridsweep_storage::stamp::ms;
use rusqlite::params;

impl ResponseWorkTx for SqliteTx<'_> {
    fn insert_order(&mut self, o: &OrderView) -> StoreResult<()> {
        self.conn()
            .prepare_cached(&format!(
                "INSERT INTO control_orders({ORDER_COLS}, area_id, person_id)
                 VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)"
            ))
            .map_err(db_err)?
            .execute(params![
                o.id,
                o.incident,
                o.kind.as_str(),
                opt_js(&o.area)?,
                opt_js(&o.person)?,
                ms(o.starts_at),
                o.ends_at.map(ms),
                o.ordered_by,
                o.reason,
                o.lifted_at.map(ms),
                o.lifted_by,
                o.area.as_ref().map(|a| a.id.get()),
                o.person.as_ref().map(|p| p.id.0)
            ])
            .map_err(db_err)?;
        Ok(())
    }

    fn update_order(&mut self, o: &OrderView) -> StoreResult<()> {
        self.conn()
            .prepare_cached(
                "UPDATE control_orders SET ends_at = ?2, lifted_at = ?3, lifted_by = ?4 WHERE id = ?1",
            )
            .map_err(db_err)?
            .execute(params![o.id, o.ends_at.map(ms), o.lifted_at.map(ms), o.lifted_by])
            .map_err(db_err)?;
        Ok(())
    }

    fn orders(&mut self, incident: i64) -> StoreResult<Vec<OrderView>> {
        self.rows(
            &format!("SELECT {ORDER_COLS} FROM control_orders WHERE incident_id = ?1 ORDER BY id"),
            [incident],
            codec::order,
        )
    }

    fn insert_task(&mut self, t: &TaskView) -> StoreResult<()> {
        self.conn()
            .prepare_cached(&format!(
                "INSERT INTO tasks({TASK_COLS}, area_id, person_id)
                 VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)"
            ))
            .map_err(db_err)?
            .execute(params![
                t.id,
                t.incident,
                t.kind.as_str(),
                t.title,
                opt_js(&t.area)?,
                opt_js(&t.person)?,
                js(&t.assignee)?,
                i64::from(t.target),
                t.status.as_str(),
                ms(t.created_at),
                t.done_at.map(ms),
                t.done_by,
                t.area.as_ref().map(|a| a.id.get()),
                t.person.as_ref().map(|p| p.id.0)
            ])
            .map_err(db_err)?;
        Ok(())
    }

    fn update_task(&mut self, t: &TaskView) -> StoreResult<()> {
        self.conn()
            .prepare_cached(
                "UPDATE tasks SET status = ?2, done_at = ?3, done_by = ?4 WHERE id = ?1",
            )
            .map_err(db_err)?
            .execute(params![
                t.id,
                t.status.as_str(),
                t.done_at.map(ms),
                t.done_by
            ])
            .map_err(db_err)?;
        Ok(())
    }

    fn tasks(&mut self, incident: i64) -> StoreResult<Vec<TaskView>> {
        self.rows(
            &format!("SELECT {TASK_COLS} FROM tasks WHERE incident_id = ?1 ORDER BY id"),
            [incident],
            codec::task,
        )
    }

    fn insert_decision(&mut self, d: &DecisionView) -> StoreResult<()> {
        self.conn()
            .prepare_cached(&format!(
                "INSERT INTO decisions({DECISION_COLS}, person_id)
                 VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)"
            ))
            .map_err(db_err)?
            .execute(params![
                d.id,
                d.incident,
                d.kind.as_str(),
                opt_js(&d.person)?,
                d.status.as_str(),
                d.reason,
                ms(d.proposed_at),
                d.proposed_by,
                d.decided_at.map(ms),
                d.decided_by,
                d.decided_role.map(|r| r.as_str()),
                d.note,
                d.override_reason,
                d.person.as_ref().map(|p| p.id.0)
            ])
            .map_err(db_err)?;
        Ok(())
    }

    fn update_decision(&mut self, d: &DecisionView) -> StoreResult<()> {
        self.conn()
            .prepare_cached(
                "UPDATE decisions SET status = ?2, decided_at = ?3, decided_by = ?4,
                 decided_role = ?5, note = ?6, override_reason = ?7 WHERE id = ?1",
            )
            .map_err(db_err)?
            .execute(params![
                d.id,
                d.status.as_str(),
                d.decided_at.map(ms),
                d.decided_by,
                d.decided_role.map(|r| r.as_str()),
                d.note,
                d.override_reason
            ])
            .map_err(db_err)?;
        Ok(())
    }

    fn decisions(&mut self, incident: i64) -> StoreResult<Vec<DecisionView>> {
        self.rows(
            &format!("SELECT {DECISION_COLS} FROM decisions WHERE incident_id = ?1 ORDER BY id"),
            [incident],
            codec::decision,
        )
    }

    fn insert_entry(&mut self, e: &EntryView) -> StoreResult<()> {
        self.conn()
            .prepare_cached(
                "INSERT INTO timeline(incident_id, at, actor, kind, text) VALUES (?1,?2,?3,?4,?5)",
            )
            .map_err(db_err)?
            .execute(params![
                e.incident,
                ms(e.at),
                e.actor,
                e.kind.as_str(),
                e.text
            ])
            .map_err(db_err)?;
        Ok(())
    }

    fn timeline(&mut self, incident: i64) -> StoreResult<Vec<EntryView>> {
        self.rows(
            "SELECT at, actor, kind, text FROM timeline WHERE incident_id = ?1 ORDER BY at, id",
            [incident],
            |r| codec::entry(incident, r),
        )
    }

    fn insert_pool_block(&mut self, b: &PoolBlock) -> StoreResult<()> {
        self.conn()
            .prepare_cached(
                "INSERT INTO pool_blocks(incident_id, tube, design, members, tasks, complete, seq)
                 VALUES (?1,?2,?3,?4,?5,?6,
                   (SELECT COALESCE(MAX(seq), 0) + 1 FROM pool_blocks WHERE incident_id = ?1))",
            )
            .map_err(db_err)?
            .execute(params![
                b.incident,
                b.tube,
                js(&b.block.design)?,
                js(&b.block.members)?,
                js(&b.tasks)?,
                b.complete
            ])
            .map_err(db_err)?;
        Ok(())
    }

    fn update_pool_block(&mut self, b: &PoolBlock) -> StoreResult<()> {
        self.conn()
            .prepare_cached(
                "UPDATE pool_blocks SET tasks = ?3, complete = ?4 WHERE incident_id = ?1 AND tube = ?2",
            )
            .map_err(db_err)?
            .execute(params![b.incident, b.tube, js(&b.tasks)?, b.complete])
            .map_err(db_err)?;
        Ok(())
    }

    fn pool_blocks(&mut self, incident: i64) -> StoreResult<Vec<PoolBlock>> {
        self.rows(
            "SELECT tube, design, members, tasks, complete FROM pool_blocks
             WHERE incident_id = ?1 ORDER BY seq",
            [incident],
            |r| codec::pool_block(incident, r),
        )
    }
}
