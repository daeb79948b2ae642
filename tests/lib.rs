//! pinion's end-to-end tests. The Rust ones (`e2e/pipeline.rs`) run a loopback index through
//! the crawler, dbgen and the resolver as libraries; the shell ones (`e2e/publish-test.sh`,
//! `nix/run.sh`) drive the release binaries and real Nix. This library is intentionally empty.
