//! One module per subcommand.

pub mod bench_alert;
pub mod bench_ingest;
pub mod demo;
pub mod generate;
pub mod import;
pub mod plan;
pub mod serve;
