//! Used by build scripts: compiles plugins from the `plugins/` workspace for `wasm32-wasip2`
//! (release) into `target/plugins`, so that the binary can embed the first-party plugins and
//! the tests can load real components built from source.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Builds `packages` of the plugins workspace (all of them if empty) and returns the folder
/// holding the `.wasm` files. `manifest_dir` is the calling crate's `CARGO_MANIFEST_DIR`.
pub fn build_plugins(manifest_dir: &str, packages: &[&str]) -> PathBuf {
    let root = Path::new(manifest_dir)
        .join("..")
        .canonicalize()
        .expect("workspace root");
    for dir in ["plugins", "plugin-sdk"] {
        println!("cargo:rerun-if-changed={}", root.join(dir).display());
    }
    let target_dir = root.join("target").join("plugins");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root.join("plugins"))
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "--target-dir",
        ])
        .arg(&target_dir);
    if packages.is_empty() {
        cmd.arg("--workspace");
    }
    for p in packages {
        cmd.args(["-p", p]);
    }
    without_outer_cargo_env(&mut cmd);
    let status = cmd.status().expect("run cargo for the plugins");
    assert!(
        status.success(),
        "building plugins/ for wasm32-wasip2 failed (is the target installed? `rustup target add wasm32-wasip2`)"
    );
    target_dir.join("wasm32-wasip2").join("release")
}

/// Removes the settings an outer cargo (a build script's, or a `cargo test` run's) passes
/// down — target, flags, profile — so that a nested cargo builds with its own.
pub fn without_outer_cargo_env(cmd: &mut Command) {
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().to_string();
        let inherited = (k.starts_with("CARGO_") && k != "CARGO_HOME")
            || k == "RUSTFLAGS"
            || k.starts_with("RUSTC")
            || [
                "DEBUG",
                "OPT_LEVEL",
                "PROFILE",
                "TARGET",
                "HOST",
                "NUM_JOBS",
            ]
            .contains(&k.as_str());
        if inherited {
            cmd.env_remove(&k);
        }
    }
}
