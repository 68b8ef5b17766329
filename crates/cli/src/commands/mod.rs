//! One module per subcommand.

pub mod import;
pub mod plan;
pub mod serve;
