//! Embedding a manifest into a component built without the Rust SDK (componentize-py, jco, any
//! toolchain that makes a wasm component): `qingguan plugin pack` appends `qingguan.toml` as
//! the `qingguan-manifest` custom section the host reads first.

use crate::inspect;
use crate::manifest::{Manifest, ManifestError, MANIFEST_SECTION};

/// Why a component could not be packed.
#[derive(Debug, thiserror::Error)]
pub enum PackError {
    /// The manifest is not valid.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// The bytes are not a component, or it imports what no plugin gets.
    #[error(transparent)]
    Component(#[from] inspect::ImportError),
    /// The component carries a manifest already.
    #[error(
        "the component already carries a manifest (built with the Rust SDK?); nothing to pack"
    )]
    AlreadyPacked,
}

fn leb128(mut n: usize, out: &mut Vec<u8>) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// The component with `manifest` (TOML text, checked first) embedded.
pub fn pack(component: &[u8], manifest: &str) -> Result<Vec<u8>, PackError> {
    Manifest::parse(manifest)?;
    inspect::check(&inspect::imports(component)?)?;
    match Manifest::from_component(component) {
        Err(ManifestError::Missing) => {}
        Err(ManifestError::NotAComponent(why)) => {
            return Err(PackError::Component(inspect::ImportError::NotAComponent(
                why,
            )))
        }
        // A manifest section is there, readable or not.
        Ok(_) | Err(_) => return Err(PackError::AlreadyPacked),
    }
    let mut body = Vec::new();
    leb128(MANIFEST_SECTION.len(), &mut body);
    body.extend_from_slice(MANIFEST_SECTION.as_bytes());
    body.extend_from_slice(manifest.as_bytes());
    let mut out = component.to_vec();
    out.push(0);
    leb128(body.len(), &mut out);
    out.extend_from_slice(&body);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leb128_matches_the_spec_examples() {
        let mut v = Vec::new();
        leb128(624_485, &mut v);
        assert_eq!(v, [0xE5, 0x8E, 0x26]);
        v.clear();
        leb128(127, &mut v);
        assert_eq!(v, [0x7f]);
    }

    #[test]
    fn refuses_modules_and_bad_manifests() {
        let module = b"\0asm\x01\0\0\0";
        let ok_manifest = "id = \"x\"\nversion = \"1.0.0\"\nsdk = \"1.2\"\n";
        assert!(matches!(
            pack(module, ok_manifest),
            Err(PackError::Component(_))
        ));
        assert!(matches!(
            pack(module, "id = 3"),
            Err(PackError::Manifest(_))
        ));
    }
}
