//! `--help` of `dbgen`, each subcommand and `dbgen-bench`, pinned: a changed or missing
//! argument help shows in review.

use std::process::Command;

fn help(bin: &str, sub: Option<&str>) -> String {
    let out = Command::new(bin).args(sub).arg("--help").output().unwrap();
    assert!(out.status.success(), "{bin} {sub:?} --help failed");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn help_texts() {
    let dbgen = env!("CARGO_BIN_EXE_dbgen");
    insta::assert_snapshot!("dbgen", help(dbgen, None));
    for sub in ["build", "inspect", "verify", "synth"] {
        insta::assert_snapshot!(format!("dbgen-{sub}"), help(dbgen, Some(sub)));
    }
    insta::assert_snapshot!("dbgen-bench", help(env!("CARGO_BIN_EXE_dbgen-bench"), None));
}
