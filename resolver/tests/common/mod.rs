//! Runs one scenario through both sources — the in-memory model and a database written by
//! `pinion_db`'s writer and read back by its reader — and insists they agree: same lock (but
//! for the database's sha256, which a memory source has not got), same warnings, or the same
//! error text.

use resolver::requirements::RequirementSet;
use resolver::solve::Options;
use resolver::source::scenario::Scenario;
use resolver::{Outcome, ResolveError, resolve};

/// The outcome both sources agree on (the memory source's, whose lock has an empty sha256).
pub fn resolve_both(
    s: &Scenario,
    reqs: &RequirementSet,
    opts: &Options,
) -> Result<Outcome, ResolveError> {
    let memory = resolve(&s.memory(), reqs, opts);
    let written = s
        .database()
        .unwrap_or_else(|e| panic!("scenario not writable: {e}"));
    let db = resolve(&written.source(), reqs, opts);
    match (&memory, &db) {
        (Ok(m), Ok(d)) => {
            let mut dl = d.lock.clone();
            assert_eq!(
                dl["db"]["sha256"].as_str().map(str::len),
                Some(64),
                "the database's lock names its sha256"
            );
            dl["db"]["sha256"] = m.lock["db"]["sha256"].clone();
            assert_eq!(m.lock, dl, "memory and database locks differ");
            assert_eq!(
                m.warnings, d.warnings,
                "memory and database warnings differ"
            );
        }
        (Err(m), Err(d)) => assert_eq!(
            m.to_string(),
            d.to_string(),
            "memory and database fail differently"
        ),
        (m, d) => panic!(
            "memory and database disagree:\nmemory: {}\ndatabase: {}",
            describe(m),
            describe(d)
        ),
    }
    memory
}

fn describe(r: &Result<Outcome, ResolveError>) -> String {
    match r {
        Ok(o) => format!("ok: {}", o.lock["packages"]),
        Err(e) => format!("error: {e}"),
    }
}
