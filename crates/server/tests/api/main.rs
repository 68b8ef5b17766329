//! The HTTP layer against the real server on port 0, on SQLite and (with
//! `GRIDSWEEP_TEST_DATABASE_URL`) PostgreSQL. One test binary with a module
//! per concern, so the server links once rather than once per file.

mod common;

mod access_fuzz;
mod auth;
mod fail_closed;
mod incidents_api;
mod openapi;
mod pipeline_api;
mod privacy;
mod read_api;
