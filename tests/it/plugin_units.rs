//! The guest SDK's and the first-party plugins' own unit tests (leave days on the work
//! calendar, appraisal scoring, …), which live in the plugins' workspace and would otherwise
//! never run with `cargo test --workspace`: built for this machine and run here.

use std::path::Path;
use std::process::Command;

#[test]
fn first_party_plugins_pass_their_unit_tests() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    // A nested cargo builds with its own settings, not the outer run's (CI's lint wrapper).
    qingguan_build_support::without_outer_cargo_env(&mut cmd);
    let out = cmd
        .current_dir(&root)
        .args([
            "test",
            "--manifest-path",
            "plugins/Cargo.toml",
            "--workspace",
            "--lib",
            "--target-dir",
            "target/plugins-native",
        ])
        .output()
        .expect("run cargo");
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    let passed: usize = text
        .lines()
        .filter_map(|l| l.strip_prefix("test result: ok. "))
        .filter_map(|l| l.split(' ').next()?.parse::<usize>().ok())
        .sum();
    assert!(passed >= 8, "the plugins' unit tests ran: {text}");
    // The SDK's own unit tests and the pure arithmetic of the plugins (dates, appraisal
    // scoring, growth points) are among them.
    for name in [
        "score::tests::rules",
        "date::tests::round_trips",
        "tests::growth_points",
    ] {
        assert!(
            text.contains(&format!("{name} ... ok")),
            "{name} did not run:\n{text}"
        );
    }
}
