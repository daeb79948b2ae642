//! The pinion crawler: reads a PEP 503/691 simple index (PyPI by default), obtains each
//! file's dependency metadata by the cheapest means available (PEP 658 sidecar, HTTP range
//! requests, whole download) and records everything in the SQLite crawl state that `dbgen`
//! reads (`crawler/schema.sql`, documented in `crawler/SCHEMA.md`).

pub mod coverage;
pub mod extract;
pub mod fetch;
pub mod http;
pub mod merge;
pub mod setup_py_cmd;
pub mod simple;
pub mod state;
pub mod sync;
#[cfg(feature = "test-index")]
pub mod testindex;
