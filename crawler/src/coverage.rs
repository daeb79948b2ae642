//! `crawler coverage`: how many files of a crawl state have requirements that are known,
//! partial (some strings did not parse) or unknown, per file kind and upload year, with the
//! sources of the known ones and the recorded causes of the unknown ones.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use rusqlite::Connection;
use serde::Serialize;

/// The requirement state of one file: `requires_dist` known or not, and partial when any of
/// its requirement sets (dist, build, setup) holds a string that did not parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReqState {
    Known,
    Partial,
    Unknown,
    /// Not processed yet (pending, or failed: see `file_errors`).
    Unprocessed,
    /// `bdist_dumb` and `other` files carry no metadata pinion reads.
    NotApplicable,
    /// An sdist no build frontend can build as the project it claims to be
    /// (`unknown_reason` starts with [`crate::extract::UNBUILDABLE`]): like `bdist_dumb`
    /// archives, not counted among the sdists whose requirements could be known.
    Unbuildable,
}

/// Counts per (kind, upload year).
#[derive(Debug, Default, Serialize)]
pub struct Coverage {
    /// kind -> year ("unknown" when the index gave no time) -> state -> files.
    pub by_kind_year: BTreeMap<String, BTreeMap<String, BTreeMap<ReqState, u64>>>,
    /// kind -> source -> files with known (or partial) requirements.
    pub sources: BTreeMap<String, BTreeMap<String, u64>>,
    /// kind -> cause -> files with unknown requirements or without metadata.
    pub causes: BTreeMap<String, BTreeMap<String, u64>>,
    /// Known sets that still hold unexpanded setup.cfg syntax (`%(x)s`, `file:`): a crawler
    /// bug if ever non-zero, since such files must be partial or unknown.
    pub silently_incomplete: u64,
}

/// Groups free-text reasons into causes: setup.py failure classes stay whole, other
/// reasons are cut before their first detail (`: `, ` (`).
fn cause_key(reason: &str) -> String {
    if reason.starts_with("setup.py run failed") {
        return reason.to_string();
    }
    let cut = [": ", " ("]
        .iter()
        .filter_map(|p| reason.find(p))
        .min()
        .unwrap_or(reason.len());
    reason[..cut].to_string()
}

pub fn compute(conn: &Connection) -> rusqlite::Result<Coverage> {
    let mut out = Coverage::default();
    let mut st = conn.prepare(
        "SELECT f.kind,
                coalesce(strftime('%Y', f.upload_time, 'unixepoch'), 'unknown'),
                m.file_id IS NOT NULL,
                m.requires_dist_source,
                m.unknown_reason,
                EXISTS (SELECT 1 FROM requirements r WHERE r.file_id = f.id
                        AND r.canonical IS NULL),
                e.stage,
                EXISTS (SELECT 1 FROM requirements r WHERE r.file_id = f.id
                        AND (r.raw LIKE '%\\%(%' ESCAPE '\\' OR r.raw LIKE 'file:%'))
         FROM files f
         LEFT JOIN file_metadata m ON m.file_id = f.id
         LEFT JOIN file_errors e ON e.file_id = f.id
         JOIN projects p ON p.id = f.project_id
         WHERE p.removed_at IS NULL",
    )?;
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        let kind: String = r.get(0)?;
        let year: String = r.get(1)?;
        let has_meta: bool = r.get(2)?;
        let source: Option<String> = r.get(3)?;
        let reason: Option<String> = r.get(4)?;
        let partial: bool = r.get(5)?;
        let error_stage: Option<String> = r.get(6)?;
        let suspicious: bool = r.get(7)?;
        let state = if !matches!(kind.as_str(), "wheel" | "sdist") {
            ReqState::NotApplicable
        } else if !has_meta {
            let cause = match error_stage {
                Some(stage) => format!("not processed: {stage} failed"),
                None => "not processed: pending".into(),
            };
            *out.causes
                .entry(kind.clone())
                .or_default()
                .entry(cause)
                .or_default() += 1;
            ReqState::Unprocessed
        } else if let Some(source) = source {
            *out.sources
                .entry(kind.clone())
                .or_default()
                .entry(source)
                .or_default() += 1;
            if suspicious && !partial {
                out.silently_incomplete += 1;
            }
            if partial {
                *out.causes
                    .entry(kind.clone())
                    .or_default()
                    .entry("partial: a requirement string does not parse".into())
                    .or_default() += 1;
                ReqState::Partial
            } else {
                ReqState::Known
            }
        } else {
            let cause = cause_key(reason.as_deref().unwrap_or("(no reason recorded)"));
            *out.causes
                .entry(kind.clone())
                .or_default()
                .entry(cause)
                .or_default() += 1;
            if reason
                .as_deref()
                .is_some_and(|r| r.starts_with(crate::extract::UNBUILDABLE))
            {
                ReqState::Unbuildable
            } else {
                ReqState::Unknown
            }
        };
        *out.by_kind_year
            .entry(kind)
            .or_default()
            .entry(year)
            .or_default()
            .entry(state)
            .or_default() += 1;
    }
    Ok(out)
}

fn pct(n: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        100.0 * n as f64 / total as f64
    }
}

impl Coverage {
    /// Totals over all years for `kind`.
    pub fn totals(&self, kind: &str) -> BTreeMap<ReqState, u64> {
        let mut t = BTreeMap::new();
        for states in self
            .by_kind_year
            .get(kind)
            .into_iter()
            .flat_map(|y| y.values())
        {
            for (s, n) in states {
                *t.entry(*s).or_default() += n;
            }
        }
        t
    }

    pub fn render(&self) -> String {
        let mut s = String::new();
        let row = |s: &mut String, label: &str, states: &BTreeMap<ReqState, u64>| {
            let get = |st| states.get(&st).copied().unwrap_or(0);
            // Unbuildable archives are counted apart, as bdist_dumb archives are.
            let unbuildable = get(ReqState::Unbuildable);
            let total: u64 = states.values().sum::<u64>() - unbuildable;
            let _ = write!(
                s,
                "  {label:<8} {total:>8}  known {:>6.2}%  partial {:>5.2}%  unknown {:>5.2}%  unprocessed {:>5.2}%",
                pct(get(ReqState::Known), total),
                pct(get(ReqState::Partial), total),
                pct(get(ReqState::Unknown), total),
                pct(get(ReqState::Unprocessed), total),
            );
            let _ = if unbuildable > 0 {
                writeln!(s, "  (+{unbuildable} unbuildable)")
            } else {
                writeln!(s)
            };
        };
        for (kind, years) in &self.by_kind_year {
            let totals = self.totals(kind);
            if matches!(kind.as_str(), "wheel" | "sdist") {
                let _ = writeln!(s, "{kind}:");
                row(&mut s, "all", &totals);
                for (year, states) in years {
                    row(&mut s, year, states);
                }
                for (source, n) in self.sources.get(kind).into_iter().flatten() {
                    let _ = writeln!(s, "    from {source:<16} {n:>8}");
                }
                for (cause, n) in self.causes.get(kind).into_iter().flatten() {
                    let _ = writeln!(s, "    {n:>8}  {cause}");
                }
            } else {
                let total: u64 = totals.values().sum();
                let _ = writeln!(s, "{kind}: {total} files (no requirements read)");
            }
        }
        let _ = writeln!(
            s,
            "silently incomplete (known sets holding unexpanded setup.cfg syntax): {}",
            self.silently_incomplete
        );
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_are_grouped() {
        assert_eq!(
            cause_key("setup.py run failed: needs-network, timeout"),
            "setup.py run failed: needs-network, timeout"
        );
        assert_eq!(
            cause_key("setup.py is not static: syntax error at line 3"),
            "setup.py is not static"
        );
        assert_eq!(
            cause_key(
                "setup.py computes its requirements depending on the build environment (a condition tests os.environ); requires.txt not trusted"
            ),
            "setup.py computes its requirements depending on the build environment"
        );
    }
}
