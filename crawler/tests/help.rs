//! `--help` of `crawler`, each subcommand, `crawler-bench` and `crawler-faults`, pinned: a
//! changed or missing argument help shows in review.

use std::process::Command;

fn help(bin: &str, sub: Option<&str>) -> String {
    let out = Command::new(bin).args(sub).arg("--help").output().unwrap();
    assert!(out.status.success(), "{bin} {sub:?} --help failed");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn help_texts() {
    let crawler = env!("CARGO_BIN_EXE_crawler");
    insta::assert_snapshot!("crawler", help(crawler, None));
    for sub in ["sync", "setup-py", "coverage", "merge"] {
        insta::assert_snapshot!(format!("crawler-{sub}"), help(crawler, Some(sub)));
    }
    for (name, bin) in [
        ("crawler-bench", env!("CARGO_BIN_EXE_crawler-bench")),
        ("crawler-faults", env!("CARGO_BIN_EXE_crawler-faults")),
    ] {
        insta::assert_snapshot!(name, help(bin, None));
    }
}
