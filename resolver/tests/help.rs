//! `--help` of the resolver binaries, pinned: a changed or missing argument help shows in
//! review (every argument must have one: `pinion_pep::cli::undocumented_args`).

use std::process::Command;

fn help(bin: &str) -> String {
    let out = Command::new(bin).arg("--help").output().unwrap();
    assert!(out.status.success(), "{bin} --help failed");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn help_texts() {
    insta::assert_snapshot!("resolver", help(env!("CARGO_BIN_EXE_resolver")));
    insta::assert_snapshot!("resolver-bench", help(env!("CARGO_BIN_EXE_resolver-bench")));
}
