//! Why a setup.py run failed, in a few classes that say what would fix it: the crawl state
//! stores the class (`setup_py_runs.cause`) so coverage can be reported by cause.

use crate::{RunError, RunErrorKind};

/// Exception texts of code that reached for the network (the sandbox has none): sockets,
/// urllib/requests, and easy_install fetching `setup_requires`.
const NETWORK: [&str; 13] = [
    "urlopen error",
    "Name or service not known",
    "Temporary failure in name resolution",
    "Network is unreachable",
    "gaierror",
    "NewConnectionError",
    "ConnectionError",
    "ConnectionRefusedError",
    "URLError",
    "No local packages or working download links found",
    "Download error on",
    "Couldn't find index page",
    "Could not find suitable distribution",
];
/// Python 2 code run by Python 3: syntax, and names/modules/methods that Python 3 removed.
const PYTHON2: [&str; 16] = [
    "SyntaxError",
    "TabError",
    "Missing parentheses in call to",
    "name 'unicode' is not defined",
    "name 'execfile' is not defined",
    "name 'basestring' is not defined",
    "name 'raw_input' is not defined",
    "name 'file' is not defined",
    "name 'xrange' is not defined",
    "name 'long' is not defined",
    "No module named 'urllib2'",
    "No module named 'ConfigParser'",
    "No module named 'commands'",
    "No module named 'StringIO'",
    "object has no attribute 'iteritems'",
    "object has no attribute 'has_key'",
];
const MISSING_FILE: [&str; 3] = [
    "FileNotFoundError",
    "No such file or directory",
    "[Errno 2]",
];

/// The class of a failed run: `needs-network`, `python2-only`, `missing-file`, `timeout`,
/// `resource-limit`, `unsupported-build-helper`, `missing-module`, `no-setup-call`,
/// `invalid-arguments`, `system-exit`, `exception`, `crashed` or `sandbox`.
pub fn classify_failure(e: &RunError) -> &'static str {
    let text = |needles: &[&str]| {
        needles
            .iter()
            .any(|n| e.message.contains(n) || e.stderr_tail.contains(n))
    };
    match e.kind {
        RunErrorKind::Timeout | RunErrorKind::CpuLimit => "timeout",
        RunErrorKind::Killed | RunErrorKind::MemoryLimit => "resource-limit",
        RunErrorKind::Unsupported => "unsupported-build-helper",
        RunErrorKind::Crashed => "crashed",
        RunErrorKind::Sandbox => "sandbox",
        RunErrorKind::NoSetupCall => "no-setup-call",
        RunErrorKind::InvalidArguments => "invalid-arguments",
        _ if text(&NETWORK) => "needs-network",
        _ if text(&PYTHON2) => "python2-only",
        _ if text(&MISSING_FILE) => "missing-file",
        RunErrorKind::ImportError => "missing-module",
        RunErrorKind::SystemExit => "system-exit",
        RunErrorKind::Exception => "exception",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(kind: RunErrorKind, message: &str, stderr: &str) -> RunError {
        RunError {
            kind,
            message: message.into(),
            stderr_tail: stderr.into(),
        }
    }

    #[test]
    fn classes() {
        use RunErrorKind::*;
        for (e, want) in [
            (
                err(
                    Exception,
                    "URLError: <urlopen error [Errno -3] Temporary failure in name resolution>",
                    "",
                ),
                "needs-network",
            ),
            (
                err(
                    SystemExit,
                    "error: Could not find suitable distribution for Requirement.parse('x')",
                    "",
                ),
                "needs-network",
            ),
            (
                err(
                    Exception,
                    "SyntaxError: Missing parentheses in call to 'print'",
                    "",
                ),
                "python2-only",
            ),
            (
                err(Exception, "NameError: name 'execfile' is not defined", ""),
                "python2-only",
            ),
            (
                err(
                    ImportError,
                    "ModuleNotFoundError: No module named 'urllib2'",
                    "",
                ),
                "python2-only",
            ),
            (
                err(
                    Exception,
                    "FileNotFoundError: [Errno 2] No such file or directory: 'requirements.txt'",
                    "",
                ),
                "missing-file",
            ),
            (
                err(
                    ImportError,
                    "ModuleNotFoundError: No module named 'numpy'",
                    "",
                ),
                "missing-module",
            ),
            (err(Timeout, "wall-clock limit", ""), "timeout"),
            (
                err(Unsupported, "Unsupported: setup() uses the pbr plugin", ""),
                "unsupported-build-helper",
            ),
            (err(Exception, "ValueError: x", ""), "exception"),
        ] {
            assert_eq!(classify_failure(&e), want, "{e:?}");
        }
    }
}
