//! The guest SDK's own examples compile and its doc tests pass (natively; the SDK's wasm side
//! is exercised by every test plugin).

use std::process::Command;

#[test]
fn sdk_doc_examples_pass() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root.join("plugins"))
        .args(["test", "--doc", "-p", "qingguan-plugin-sdk", "--target-dir"])
        .arg(root.join("target").join("plugins-native"));
    qingguan_build_support::without_outer_cargo_env(&mut cmd);
    let out = cmd.output().expect("run cargo test for the SDK");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "SDK doc tests failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("test result: ok."), "{stdout}");
}
