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
    ensure_wasm_target(&root);
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

/// The target plugins build for.
pub const WASM_TARGET: &str = "wasm32-wasip2";

/// Makes sure the toolchain can build for [`WASM_TARGET`]: adds it with rustup when it is
/// missing (rustup does not always install a toolchain file's targets by itself), and otherwise
/// stops the build at once with the one command to run — instead of failing minutes later.
pub fn ensure_wasm_target(root: &Path) {
    if target_installed(root) {
        return;
    }
    println!("cargo:warning=the {WASM_TARGET} target is missing; adding it with rustup");
    let mut add = Command::new("rustup");
    add.current_dir(root).args(["target", "add", WASM_TARGET]);
    without_outer_cargo_env(&mut add);
    let added = add.status().map(|s| s.success()).unwrap_or(false);
    if !added || !target_installed(root) {
        panic!(
            "the Rust target {WASM_TARGET} is not installed and could not be added; run \
             `rustup target add {WASM_TARGET}` in {} and build again",
            root.display()
        );
    }
}

/// Whether the toolchain in use at `root` has the standard library for [`WASM_TARGET`].
fn target_installed(root: &Path) -> bool {
    let mut rustc = Command::new("rustc");
    rustc.current_dir(root).args(["--print", "sysroot"]);
    without_outer_cargo_env(&mut rustc);
    let Ok(out) = rustc.output() else {
        return false;
    };
    let sysroot = String::from_utf8_lossy(&out.stdout).trim().to_string();
    Path::new(&sysroot)
        .join("lib")
        .join("rustlib")
        .join(WASM_TARGET)
        .join("lib")
        .is_dir()
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
