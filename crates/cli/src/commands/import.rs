//! `gridsweep import residents FILE`.

use anyhow::{Context, Result, bail};
use gridsweep_import::{ImportOptions, RosterFormat, import_roster};
use gridsweep_storage::Store;
use std::path::Path;

/// Imports a roster file and prints the report; fails (exit 1) when the
/// import was rejected, so scripts notice.
pub fn residents(store: &dyn Store, file: &Path, opts: ImportOptions) -> Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let format = RosterFormat::from_file_name(&file.to_string_lossy());
    let report = import_roster(store, &bytes, format, opts)
        .with_context(|| format!("importing {}", file.display()))?;
    print!("{}", report.render_text());
    if !report.is_success() {
        bail!("import rejected: nothing was written");
    }
    Ok(())
}
