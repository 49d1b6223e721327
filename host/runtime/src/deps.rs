//! Dependency resolution as pure functions over manifests: whether a version fits the active
//! set, who depends on a plugin, and the order in which stored plugins can be loaded.

use crate::manifest::Manifest;
use std::collections::HashSet;

/// Why a version does not fit the plugins around it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DependencyError(pub String);

/// Checks `m` against the active manifests: every dependency active in a matching version, no
/// cycle through it, and no active plugin whose range on `m` the new version would break.
pub fn check(m: &Manifest, active: &[&Manifest]) -> Result<(), DependencyError> {
    for (dep, range) in &m.dependencies {
        match active.iter().find(|p| &p.id == dep) {
            Some(p) if range.matches(&p.version) => {}
            Some(p) => {
                return Err(DependencyError(format!(
                    "plugin '{}' {} requires '{dep}' {range}, but '{dep}' {} is installed",
                    m.id, m.version, p.version
                )))
            }
            None => {
                return Err(DependencyError(format!(
                    "plugin '{}' {} requires '{dep}' {range}, which is not installed and active",
                    m.id, m.version
                )))
            }
        }
    }
    // A cycle: something this plugin needs (transitively) needs this plugin.
    let mut seen = HashSet::new();
    let mut todo: Vec<String> = m.dependencies.keys().cloned().collect();
    while let Some(d) = todo.pop() {
        if d == m.id {
            return Err(DependencyError(format!(
                "plugin '{}' {} would form a dependency cycle",
                m.id, m.version
            )));
        }
        if seen.insert(d.clone()) {
            if let Some(p) = active.iter().find(|p| p.id == d) {
                todo.extend(p.dependencies.keys().cloned());
            }
        }
    }
    for p in active {
        if let Some(range) = p.dependencies.get(&m.id) {
            if !range.matches(&m.version) {
                return Err(DependencyError(format!(
                    "'{}' {} requires '{}' {range}; version {} would break it",
                    p.id, p.version, m.id, m.version
                )));
            }
        }
    }
    Ok(())
}

/// The active plugins that depend on `id`, as `"id version"`.
pub fn dependents(id: &str, active: &[&Manifest]) -> Vec<String> {
    active
        .iter()
        .filter(|p| p.dependencies.contains_key(id))
        .map(|p| format!("{} {}", p.id, p.version))
        .collect()
}

/// Whether `m` can load once the plugins in `loaded` are active (all its dependencies are).
pub fn ready(m: &Manifest, loaded: &HashSet<String>) -> bool {
    m.dependencies.keys().all(|d| loaded.contains(d))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(id: &str, version: &str, deps: &[(&str, &str)]) -> Manifest {
        let deps: String = deps
            .iter()
            .map(|(d, r)| format!("{d} = \"{r}\"\n"))
            .collect();
        Manifest::parse(&format!(
            "id = \"{id}\"\nversion = \"{version}\"\nsdk = \"1.0\"\n[dependencies]\n{deps}"
        ))
        .unwrap()
    }

    #[test]
    fn a_missing_or_mismatched_dependency_is_named() {
        let app = manifest("app", "1.0.0", &[("base", "^2")]);
        let e = check(&app, &[]).unwrap_err();
        assert!(
            e.0.contains("requires 'base' ^2, which is not installed"),
            "{e}"
        );
        let base1 = manifest("base", "1.4.0", &[]);
        let e = check(&app, &[&base1]).unwrap_err();
        assert!(e.0.contains("but 'base' 1.4.0 is installed"), "{e}");
        let base2 = manifest("base", "2.1.0", &[]);
        assert_eq!(check(&app, &[&base2]), Ok(()));
    }

    #[test]
    fn an_upgrade_that_breaks_a_dependent_is_refused() {
        let app = manifest("app", "1.0.0", &[("base", "^2")]);
        let base3 = manifest("base", "3.0.0", &[]);
        let e = check(&base3, &[&app]).unwrap_err();
        assert!(e.0.contains("'app' 1.0.0 requires 'base' ^2"), "{e}");
        assert_eq!(dependents("base", &[&app]), vec!["app 1.0.0".to_string()]);
        assert!(dependents("app", &[&app]).is_empty());
    }

    #[test]
    fn cycles_are_refused() {
        let b = manifest("b", "1.0.0", &[("a", "*")]);
        let a = manifest("a", "1.0.0", &[("b", "*")]);
        let e = check(&a, &[&b]).unwrap_err();
        assert!(e.0.contains("cycle"), "{e}");
    }

    #[test]
    fn load_order_follows_dependencies() {
        let app = manifest("app", "1.0.0", &[("base", "*")]);
        let base = manifest("base", "1.0.0", &[]);
        let orphan = manifest("orphan", "1.0.0", &[("gone", "*")]);
        let mut loaded = HashSet::new();
        assert!(!ready(&app, &loaded));
        assert!(ready(&base, &loaded));
        loaded.insert("base".to_string());
        assert!(ready(&app, &loaded));
        assert!(!ready(&orphan, &loaded));
    }
}
