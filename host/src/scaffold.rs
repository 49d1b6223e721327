//! `qingguan plugin new NAME`: a plugin crate that builds to `wasm32-wasip2`, installs as is,
//! and tests itself against an in-process Qingguan. The SDK is not on a registry yet, so the
//! scaffold points at this source tree's `plugin-sdk/` (found at build time, or `--source`).

use anyhow::{bail, Context};
use std::path::{Path, PathBuf};

/// The source tree this binary was built from.
pub fn default_source() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Finds the Qingguan source tree: `--source`, `QINGGUAN_SOURCE`, or the build's own tree.
pub fn find_source(explicit: Option<&Path>) -> anyhow::Result<PathBuf> {
    let candidate = explicit
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os("QINGGUAN_SOURCE").map(PathBuf::from))
        .unwrap_or_else(default_source);
    let sdk = candidate.join("plugin-sdk").join("Cargo.toml");
    if !sdk.exists() {
        bail!(
            "cannot find the Qingguan source tree (looked for {}); pass --source DIR or set QINGGUAN_SOURCE",
            sdk.display()
        );
    }
    candidate
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", candidate.display()))
}

fn toml_path(p: &Path) -> String {
    p.display()
        .to_string()
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
}

/// Creates `parent/name` with a working plugin.
pub fn new_plugin(name: &str, parent: &Path, source: &Path) -> anyhow::Result<PathBuf> {
    let ok = !name.is_empty()
        && name.len() <= 40
        && name.as_bytes()[0].is_ascii_lowercase()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if !ok {
        bail!("plugin name '{name}' must be 1-40 of a-z, 0-9, - and _, starting with a letter");
    }
    let dir = parent.join(name);
    if dir.exists() {
        bail!("{} already exists", dir.display());
    }
    let entity = format!("{}_item", name.replace('-', "_"));
    let sdk = source.join("plugin-sdk");
    let runtime = source.join("host").join("runtime");
    std::fs::create_dir_all(dir.join("src"))
        .with_context(|| format!("cannot create {}", dir.display()))?;
    std::fs::create_dir_all(dir.join("tests"))?;
    let files: Vec<(&str, String)> = vec![
        (
            "Cargo.toml",
            format!(
                r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2021"
publish = false

[lib]
crate-type = ["cdylib", "rlib"]

[dependencies]
qingguan-plugin-sdk = {{ path = "{sdk}" }}

[dev-dependencies]
# The in-process test host (qingguan_runtime::testing). Runs natively, not in wasm.
qingguan-runtime = {{ path = "{runtime}", features = ["testing"] }}

# A standalone workspace: this plugin is not part of any enclosing one.
[workspace]

[profile.release]
opt-level = "s"
lto = true
codegen-units = 1
panic = "abort"
strip = "debuginfo"

[profile.dev.package."*"]
opt-level = 2
"#,
                sdk = toml_path(&sdk),
                runtime = toml_path(&runtime)
            ),
        ),
        (
            "rust-toolchain.toml",
            "[toolchain]\nchannel = \"stable\"\ntargets = [\"wasm32-wasip2\"]\n".into(),
        ),
        (".gitignore", "/target\n".into()),
        (
            "qingguan.toml",
            format!(
                r#"# The manifest: read by Qingguan before any plugin code runs.
id = "{name}"
version = "0.1.0"
sdk = "1.2"
name = {{ en = "{name}", zh-CN = "{name}" }}

[capabilities]
read = ["customer"]
kv = true

[[entities]]
name = "{entity}"
label = {{ en = "Item", zh-CN = "条目" }}
fields = [
  {{ name = "title", type = "text", label = {{ en = "Title", zh-CN = "标题" }}, required = true }},
  {{ name = "customer", type = "reference", target = "customer", label = {{ en = "Customer", zh-CN = "客户" }} }},
  {{ name = "amount", type = "decimal", label = {{ en = "Amount", zh-CN = "金额" }} }},
]

[[menu]]
label = {{ en = "Items", zh-CN = "条目" }}
entity = "{entity}"

[[hooks]]
entity = "{entity}"
events = ["before_create", "before_update"]

[[routes]]
method = "GET"
path = "/hello"
"#
            ),
        ),
        (
            "src/lib.rs",
            format!(
                r#"//! The {name} plugin for Qingguan.

use qingguan_plugin_sdk::*;

struct Plugin_;

impl Plugin for Plugin_ {{
    fn before_write(_op: WriteOp, entity: &str, _before: Option<&Record>, fields: &mut Fields) -> Result<()> {{
        if entity == "{entity}" {{
            let title = fields.str("title").unwrap_or_default().trim().to_string();
            if title.is_empty() {{
                return Err(Error::invalid("an item needs a title").field("title", "required"));
            }}
            fields.set("title", title);
        }}
        Ok(())
    }}

    fn http(req: Request) -> Result<Response> {{
        match (req.method.as_str(), req.path.as_str()) {{
            ("GET", "/hello") => {{
                let items = host::query("{entity}", &host::Query::new().limit(200))?;
                Ok(Response::json(&json!({{"hello": host::context().username, "items": items.items.len()}})))
            }}
            _ => Ok(Response::status(404)),
        }}
    }}
}}

export_plugin!(Plugin_);
"#
            ),
        ),
        (
            "tests/plugin.rs",
            format!(
                r#"//! Runs the compiled plugin against an in-process Qingguan with a temporary database.

use qingguan_runtime::testing::{{build_plugin, TestHost}};
use serde_json::json;

#[test]
fn hook_trims_titles_and_route_answers() {{
    let wasm = build_plugin(env!("CARGO_MANIFEST_DIR")).expect("build the plugin");
    let host = TestHost::new().expect("test host");
    let info = host.install(&wasm).expect("install");
    assert_eq!(info.status, "active");

    let item = host.create("{entity}", json!({{"title": "  first  "}})).expect("create");
    assert_eq!(item["title"], "first");
    let err = host.create("{entity}", json!({{"title": "   "}})).unwrap_err();
    assert!(err.to_string().contains("title"), "{{err}}");

    let (status, body) = host.http("{name}", "GET", "/hello", b"").expect("route");
    assert_eq!(status, 200);
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["items"], 1);
}}
"#
            ),
        ),
        (
            "README.md",
            format!(
                r#"# {name}

A Qingguan plugin.

    cargo build --release --target wasm32-wasip2   # target/wasm32-wasip2/release/{lib}.wasm
    cargo test                                     # builds the component, runs it in-process
    qingguan plugin install target/wasm32-wasip2/release/{lib}.wasm --approve --data-dir DIR

The manifest is `qingguan.toml`; the plugin guide in the Qingguan source (`docs/plugin-guide.md`)
describes every field, import and export.
"#,
                lib = name.replace('-', "_")
            ),
        ),
    ];
    for (path, text) in files {
        std::fs::write(dir.join(path), text).with_context(|| format!("cannot write {path}"))?;
    }
    Ok(dir)
}
