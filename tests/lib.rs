//! Shared helpers for pinion end-to-end tests.
#![forbid(unsafe_code)]
