//! The engine's own reach check: every command is checked against the
//! actor's reach inside the transaction that applies it, against the rows
//! as they are then (an event released from waiting included).

use gridsweep_domain::Reach;
use gridsweep_domain::pipeline::PipelineError;
use gridsweep_storage::StoreResult;
use gridsweep_storage::pipeline::{PipelineTx, TubeRow};

/// Refuses a sampling step at a site outside the actor's reach (or by an
/// actor that does not sample at all). A site without an area row cannot
/// be placed, so it is refused too.
pub(super) fn check_site_reach(
    tx: &mut dyn PipelineTx,
    site: i64,
    reach: &Reach,
) -> StoreResult<Result<(), PipelineError>> {
    if *reach == Reach::Everywhere {
        return Ok(Ok(()));
    }
    let ok = reach.samples()
        && tx
            .site_area_path(site)?
            .is_some_and(|p| reach.may_sample_at(&p));
    Ok(if ok {
        Ok(())
    } else {
        Err(PipelineError::OutOfScope(format!("site {site}")))
    })
}

/// A tube is reached through the site it was opened at.
pub(super) fn check_tube_reach(
    tx: &mut dyn PipelineTx,
    t: &TubeRow,
    reach: &Reach,
) -> StoreResult<Result<(), PipelineError>> {
    Ok(check_site_reach(tx, t.site, reach)?
        .map_err(|_| PipelineError::OutOfScope(format!("tube {}", t.barcode))))
}

/// Receiving and resulting are a lab's work alone.
pub(super) fn check_lab(reach: &Reach) -> Result<(), PipelineError> {
    if reach.is_lab() {
        Ok(())
    } else {
        Err(PipelineError::OutOfScope("lab work".into()))
    }
}

/// Opening, filling, boxing and handing over are a sampler's work.
pub(super) fn check_samples(reach: &Reach) -> Result<(), PipelineError> {
    if reach.samples() {
        Ok(())
    } else {
        Err(PipelineError::OutOfScope("sampling".into()))
    }
}
