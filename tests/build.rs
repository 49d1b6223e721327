//! Builds every plugin in `plugins/` (first-party and test plugins) for `wasm32-wasip2`, so
//! the black-box tests load real components compiled from source in this tree.

fn main() {
    let dir = qingguan_build_support::build_plugins(env!("CARGO_MANIFEST_DIR"), &[]);
    println!("cargo:rustc-env=QINGGUAN_TEST_PLUGINS={}", dir.display());
}
