//! The one command-line convention of pinion's binaries (issue 14), so that `resolver`,
//! `dbgen`, `crawler`, `pinion-setuppy` and the benchmarks fail, log and exit alike:
//!
//! - a failure is reported as `error: WHAT WENT WRONG`, one `  caused by: …` line per cause
//!   below it, then the hints (`hint: WHAT TO DO`) that any layer carries, after all causes —
//!   never Rust's `Debug` form (`Error: Custom { … }`), never a binary's name as prefix;
//! - logs go to stderr through `tracing`, filtered by the one variable [`LOG_ENV`]
//!   (`PINION_LOG=debug`, or per module: `PINION_LOG=crawler::sync=trace`);
//! - the exit status is one of [`Exit`], documented in the README's table and in each
//!   binary's `--help` ([`exit_status_help`]).
//!
//! Libraries keep their typed errors; a layer's text may end in `hint: …` lines (as
//! `pinion_db::DbError` does), and [`render_error`] moves them below the causes.

use std::error::Error;
use std::io::Write;
use std::process::ExitCode;

use crate::output;

/// The environment variable every binary reads its log filter from (`tracing` directives).
pub const LOG_ENV: &str = "PINION_LOG";

/// How a pinion binary ends. The codes are part of the interface: scripts (`publish.sh`, the
/// Nix library) branch on them, so they never change meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Everything asked for was done.
    Success,
    /// An error, reported on stderr; outputs are left as they were (written whole or not at all).
    Failure,
    /// The command line is invalid (clap's code, also used for values that parse but make no
    /// sense, such as `crawler sync` without projects).
    Usage,
    /// `crawler sync` finished, but some files or project pages failed: they are recorded in
    /// the crawl state (`file_errors`) and retried by the next sync; what succeeded is kept.
    Partial,
    /// Standard output was closed by its reader (`… | head -1`): ended quietly, like a tool
    /// killed by SIGPIPE (128 + 13).
    BrokenPipe,
}

impl Exit {
    /// Every status, in the order the help and the README list them.
    pub const ALL: [Exit; 5] = [
        Exit::Success,
        Exit::Failure,
        Exit::Usage,
        Exit::Partial,
        Exit::BrokenPipe,
    ];

    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Failure => 1,
            // clap exits with 2 on a usage error before our code runs; ours agree with it.
            Exit::Usage => 2,
            Exit::Partial => 3,
            Exit::BrokenPipe => output::EXIT_BROKEN_PIPE,
        }
    }

    /// One line for `--help` and the README.
    pub fn meaning(self) -> &'static str {
        match self {
            Exit::Success => "success",
            Exit::Failure => "error (reported on stderr; outputs are left as they were)",
            Exit::Usage => "invalid command line",
            Exit::Partial => {
                "`crawler sync` finished but some files or pages failed (recorded in the state, retried next time)"
            }
            Exit::BrokenPipe => "standard output was closed by its reader (e.g. `head`)",
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e.code())
    }
}

/// The `Exit status:` section of a binary's `--help` (clap's `after_help`), listing the
/// statuses that binary can end with.
pub fn exit_status_help(statuses: &[Exit]) -> String {
    let mut text = String::from("Exit status:\n");
    for s in statuses {
        text.push_str(&format!("  {:>3}  {}\n", s.code(), s.meaning()));
    }
    text
}

/// The statuses of a binary without partial outcomes (all but `crawler`).
pub const COMMON: [Exit; 4] = [Exit::Success, Exit::Failure, Exit::Usage, Exit::BrokenPipe];

/// An error in what the user typed, found after parsing (a value clap cannot check alone):
/// reported like any error, but the binary exits with [`Exit::Usage`].
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Starts `tracing` on stderr with the filter in [`LOG_ENV`], or `default` (e.g. `"warn"`)
/// when it is unset. A filter that does not parse is reported and replaced by `default`,
/// so a typo never silences warnings.
pub fn init_logging(default: &str) {
    use tracing_subscriber::EnvFilter;
    let filter = match std::env::var(LOG_ENV) {
        Ok(v) if !v.trim().is_empty() => EnvFilter::try_new(&v).unwrap_or_else(|e| {
            let _ = writeln!(
                std::io::stderr(),
                "warning: ignoring {LOG_ENV}=`{v}`: {e}\nhint: use a level (`debug`) or `module=level` directives, e.g. `{LOG_ENV}=warn,crawler::sync=debug`"
            );
            EnvFilter::new(default)
        }),
        _ => EnvFilter::new(default),
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter)
        .init();
}

/// Ends `main`: the status of a success, or the report of an error on stderr and
/// [`Exit::Failure`] ([`Exit::Usage`] when a [`UsageError`] is in its chain). A broken pipe
/// anywhere in the chain ends quietly with [`Exit::BrokenPipe`].
pub fn finish<E: AsRef<dyn Error + 'static>>(result: Result<Exit, E>) -> ExitCode {
    let err = match result {
        Ok(status) => return status.into(),
        Err(e) => e,
    };
    let err = err.as_ref();
    if output::is_broken_pipe(err) {
        return Exit::BrokenPipe.into();
    }
    // A closed stderr leaves nothing to report to; the status still tells.
    let _ = std::io::stderr().write_all(render_error(err).as_bytes());
    let usage = chain(err).any(|e| e.downcast_ref::<UsageError>().is_some());
    if usage { Exit::Usage } else { Exit::Failure }.into()
}

fn chain<'a>(err: &'a (dyn Error + 'static)) -> impl Iterator<Item = &'a (dyn Error + 'static)> {
    std::iter::successors(Some(err), |&e| e.source())
}

/// `error: …`, a `  caused by: …` line per cause, then every layer's `hint:` block.
///
/// A cause whose text its parent already ends with (errors that print their source as well
/// as returning it) is not repeated.
pub fn render_error(err: &(dyn Error + 'static)) -> String {
    let mut messages: Vec<String> = Vec::new();
    let mut hints: Vec<String> = Vec::new();
    for e in chain(err) {
        let text = e.to_string();
        let (message, hint) = split_hint(&text);
        if let Some(h) = hint {
            hints.push(h.trim_end().to_string());
        }
        let message = message.trim_end();
        if message.is_empty() || messages.last().is_some_and(|m| m.ends_with(message)) {
            continue;
        }
        messages.push(message.to_string());
    }
    let mut out = String::new();
    for (i, m) in messages.iter().enumerate() {
        out.push_str(if i == 0 { "error: " } else { "  caused by: " });
        out.push_str(m);
        out.push('\n');
    }
    for h in hints {
        out.push_str(&h);
        out.push('\n');
    }
    out
}

/// Splits a layer's text before its first line that starts a hint (`hint:` or `hints:`).
fn split_hint(text: &str) -> (&str, Option<&str>) {
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        if line.starts_with("hint:") || line.starts_with("hints:") {
            return (&text[..at], Some(&text[at..]));
        }
        at += line.len();
    }
    (text, None)
}

/// The arguments of `cmd` and its subcommands (as `cmd sub --arg`) that have no help text:
/// every binary's tests require this to be empty, so `--help` documents every argument.
pub fn undocumented_args(cmd: &clap::Command) -> Vec<String> {
    let mut missing = Vec::new();
    collect_undocumented(cmd, cmd.get_name(), &mut missing);
    missing
}

/// Panics naming the arguments of `cmd` without help: the test every binary runs on its
/// parser (`every_argument_has_help`).
pub fn assert_documented(cmd: &clap::Command) {
    let missing = undocumented_args(cmd);
    assert!(missing.is_empty(), "arguments without help: {missing:?}");
}

fn collect_undocumented(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
    for arg in cmd.get_arguments() {
        let builtin = matches!(arg.get_id().as_str(), "help" | "version");
        if !builtin && !arg.is_hide_set() && arg.get_help().is_none() {
            let name = match arg.get_long() {
                Some(l) => format!("--{l}"),
                None => arg.get_id().to_string().to_uppercase(),
            };
            missing.push(format!("{path} {name}"));
        }
    }
    for sub in cmd.get_subcommands() {
        if sub.get_name() != "help" {
            collect_undocumented(sub, &format!("{path} {}", sub.get_name()), missing);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("{msg}")]
    struct Layer {
        msg: String,
        #[source]
        source: Option<Box<dyn Error + 'static>>,
    }

    fn layer(msg: &str, source: Option<Layer>) -> Layer {
        Layer {
            msg: msg.into(),
            source: source.map(|s| Box::new(s) as Box<dyn Error>),
        }
    }

    #[test]
    fn causes_on_their_own_lines_and_hints_last() {
        let inner = layer(
            "database format 9 is newer than this resolver (reads 8)\nhint: update pinion",
            None,
        );
        let err = layer(
            "opening database `a.db`\nhint: or pass another --db",
            Some(inner),
        );
        assert_eq!(
            render_error(&err),
            "error: opening database `a.db`\n  caused by: database format 9 is newer than this resolver (reads 8)\nhint: or pass another --db\nhint: update pinion\n"
        );
    }

    #[test]
    fn multi_line_hint_blocks_stay_whole_and_repeated_causes_are_dropped() {
        let io = layer("No space left on device (os error 28)", None);
        let err = layer(
            "writing `out`: No space left on device (os error 28)",
            Some(io),
        );
        assert_eq!(
            render_error(&err),
            "error: writing `out`: No space left on device (os error 28)\n"
        );
        let err = layer(
            "2 projects missing:\n  - `a`\nhints:\n  - one\n  - two",
            None,
        );
        assert_eq!(
            render_error(&err),
            "error: 2 projects missing:\n  - `a`\nhints:\n  - one\n  - two\n"
        );
    }

    #[test]
    fn usage_errors_and_broken_pipes_choose_the_status() {
        fn boxed(e: impl Error + 'static) -> Result<Exit, Box<dyn Error>> {
            Err(Box::new(e))
        }
        let usage = layer("bad --x", Some(layer("", None)));
        assert_eq!(finish(boxed(usage)), ExitCode::from(1));
        let nested = Layer {
            msg: "parsing".into(),
            source: Some(Box::new(UsageError("nothing to do".into()))),
        };
        assert_eq!(finish(boxed(nested)), ExitCode::from(2));
        let pipe = Layer {
            msg: "printing".into(),
            source: Some(Box::new(std::io::Error::from(
                std::io::ErrorKind::BrokenPipe,
            ))),
        };
        assert_eq!(finish(boxed(pipe)), ExitCode::from(141));
        assert_eq!(
            finish::<Box<dyn Error>>(Ok(Exit::Partial)),
            ExitCode::from(3)
        );
    }

    #[test]
    fn readme_documents_every_exit_status() {
        let readme = include_str!("../../README.md");
        for s in Exit::ALL {
            let row = format!("| {} | {} |", s.code(), s.meaning());
            assert!(readme.contains(&row), "README.md lacks the row `{row}`");
        }
    }

    #[test]
    fn undocumented_arguments_are_named() {
        let cmd = clap::Command::new("tool")
            .arg(clap::Arg::new("db").long("db").help("The database."))
            .arg(clap::Arg::new("out").long("out"))
            .subcommand(clap::Command::new("sub").arg(clap::Arg::new("path")));
        assert_eq!(undocumented_args(&cmd), ["tool --out", "tool sub PATH"]);
    }

    #[test]
    #[should_panic(expected = "tool --out")]
    fn assert_documented_names_what_is_missing() {
        assert_documented(&clap::Command::new("tool").arg(clap::Arg::new("out").long("out")));
    }
}
