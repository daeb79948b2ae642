//! `pinion-setuppy --help`, pinned: a changed or missing argument help shows in review.

#[test]
fn help_text() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pinion-setuppy"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    insta::assert_snapshot!("pinion-setuppy", String::from_utf8(out.stdout).unwrap());
}
