//! What a component's bytes say before it is compiled: the interfaces it imports, checked
//! against what this host provides — so that a component needing something no plugin gets
//! (a network, another contract) is refused in milliseconds with the fix named, not after a
//! compile that takes seconds (tens of seconds for an interpreter-based component).

use semver::Version;

/// WASI interfaces the host links (all of them empty or closed: no files, no network), in
/// their 0.2 versions.
const PROVIDED_WASI: [&str; 6] = [
    "wasi:cli/",
    "wasi:clocks/",
    "wasi:filesystem/",
    "wasi:io/",
    "wasi:random/",
    "wasi:sockets/",
];

fn provided_wasi(name: &str) -> bool {
    PROVIDED_WASI.iter().any(|p| name.starts_with(p))
        && name
            .split_once('@')
            .is_some_and(|(_, v)| v.starts_with("0.2."))
}

/// Why a component's imports are refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    /// The bytes are not a component.
    #[error("not a WebAssembly component: {0}")]
    NotAComponent(String),
    /// It imports interfaces the host does not provide.
    #[error("{}", describe(.0))]
    Unprovided(Vec<String>),
}

fn describe(names: &[String]) -> String {
    let mut text = format!(
        "the component imports {}, which Qingguan does not provide (plugins get records, \
         their key-value store and other plugins through qingguan:plugin, and no network)",
        names.join(", ")
    );
    if names.iter().any(|n| n.starts_with("wasi:http/")) {
        text.push_str(
            "; a JavaScript component built with jco imports wasi:http unless built with \
             `--disable http fetch-event`",
        );
    }
    text
}

/// The top-level imports of a component, by name.
pub fn imports(bytes: &[u8]) -> Result<Vec<String>, ImportError> {
    let mut names = Vec::new();
    let mut depth = 0usize;
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        match payload.map_err(|e| ImportError::NotAComponent(e.to_string()))? {
            wasmparser::Payload::Version { encoding, .. } => {
                if depth == 0 && encoding != wasmparser::Encoding::Component {
                    return Err(ImportError::NotAComponent(
                        "this is a core module; build for wasm32-wasip2".into(),
                    ));
                }
                depth += 1;
            }
            wasmparser::Payload::End(_) => depth = depth.saturating_sub(1),
            wasmparser::Payload::ComponentImportSection(reader) if depth == 1 => {
                for import in reader {
                    let import = import.map_err(|e| ImportError::NotAComponent(e.to_string()))?;
                    names.push(import.name.name.to_string());
                }
            }
            _ => {}
        }
    }
    Ok(names)
}

/// Checks a component's imports: only WASI the host links and the `qingguan:plugin`
/// contract. Returns the contract version it imports, if any.
pub fn check(names: &[String]) -> Result<Option<Version>, ImportError> {
    let unprovided: Vec<String> = names
        .iter()
        .filter(|n| !n.starts_with("qingguan:plugin/") && !provided_wasi(n))
        .cloned()
        .collect();
    if !unprovided.is_empty() {
        return Err(ImportError::Unprovided(unprovided));
    }
    // A 1.3 component imports 1.2's `host` and 1.3's `outreach`: the newest version named is
    // the one it was built against.
    Ok(names
        .iter()
        .filter_map(|n| n.strip_prefix("qingguan:plugin/"))
        .filter_map(|n| n.split_once('@'))
        .filter_map(|(_, v)| Version::parse(v).ok())
        .max())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_what_is_missing_and_the_jco_fix() {
        let names = vec![
            "wasi:io/streams@0.2.3".to_string(),
            "wasi:http/outgoing-handler@0.2.3".to_string(),
            "qingguan:plugin/host@1.2.0".to_string(),
        ];
        let err = check(&names).unwrap_err().to_string();
        assert!(err.contains("wasi:http/outgoing-handler@0.2.3"), "{err}");
        assert!(err.contains("--disable http fetch-event"), "{err}");
        assert!(!err.contains("wasi:io"), "{err}");
        let ok = check(
            &names[..1]
                .iter()
                .chain(&names[2..])
                .cloned()
                .collect::<Vec<_>>(),
        );
        assert_eq!(ok.unwrap(), Some(Version::new(1, 2, 0)));
        // A 1.3 component imports 1.2's host and 1.3's outreach: it was built against 1.3.
        let v13 = check(&[
            "qingguan:plugin/types@1.2.0".to_string(),
            "qingguan:plugin/host@1.2.0".to_string(),
            "qingguan:plugin/outreach@1.3.0".to_string(),
        ]);
        assert_eq!(v13.unwrap(), Some(Version::new(1, 3, 0)));
        assert!(matches!(
            imports(b"\0asm\x01\0\0\0"),
            Err(ImportError::NotAComponent(_))
        ));
    }
}
