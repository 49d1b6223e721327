//! Builds the first-party plugins for `wasm32-wasip2` so that the binary can embed them (the
//! demo installs them; `qingguan serve` offers them).

fn main() {
    let dir = qingguan_build_support::build_plugins(
        env!("CARGO_MANIFEST_DIR"),
        &[
            "qingguan-sales",
            "qingguan-growth-rule",
            "qingguan-appraisal",
            "qingguan-inventory",
            "qingguan-finance",
            "qingguan-oa",
        ],
    );
    println!("cargo:rustc-env=QINGGUAN_FIRST_PARTY={}", dir.display());
}
