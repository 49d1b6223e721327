//! What the core stores for the plugin runtime: installed plugins and their kept versions,
//! and each plugin's private key-value store. The core does not interpret manifests.

use crate::db;
use crate::db::OptionalExtension;
use crate::schema::Origin;
use crate::store::Store;
use crate::{Error, Reason, Result};

/// Longest key of a plugin's key-value store.
pub const KV_MAX_KEY: usize = 256;
/// Largest value of a plugin's key-value store.
pub const KV_MAX_VALUE: usize = 1024 * 1024;

/// An installed plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginRow {
    /// Plugin id.
    pub id: String,
    /// Active version.
    pub version: String,
    /// Whether the administrator enabled it.
    pub enabled: bool,
    /// `active`, `disabled`, `faulted`, `failed`, … (the runtime's words).
    pub status: String,
    /// Why it is not active, if it is not.
    pub error: Option<String>,
    /// The active version's manifest (JSON).
    pub manifest: String,
    /// SHA-256 of the active version's component.
    pub sha256: String,
    /// Capabilities the administrator approved (JSON).
    pub approved: String,
    /// Configuration (JSON object).
    pub config: String,
    /// First installed.
    pub installed_at: String,
    /// Last changed.
    pub updated_at: String,
}

/// A kept version of a plugin (for rollback).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginVersionRow {
    /// Plugin id.
    pub plugin: String,
    /// Version.
    pub version: String,
    /// SHA-256 of the component.
    pub sha256: String,
    /// Its manifest (JSON).
    pub manifest: String,
    /// When it was installed.
    pub installed_at: String,
}

fn row(r: &crate::db::Row<'_>) -> crate::db::DbResult<PluginRow> {
    Ok(PluginRow {
        id: r.get(0)?,
        version: r.get(1)?,
        enabled: r.get(2)?,
        status: r.get(3)?,
        error: r.get(4)?,
        manifest: r.get(5)?,
        sha256: r.get(6)?,
        approved: r.get(7)?,
        config: r.get(8)?,
        installed_at: r.get(9)?,
        updated_at: r.get(10)?,
    })
}

const COLUMNS: &str =
    "id, version, enabled, status, error, manifest, sha256, approved, config, installed_at, updated_at";

fn check_key(key: &str) -> Result<()> {
    if key.is_empty() || key.len() > KV_MAX_KEY {
        return Err(Error::field(
            "key",
            Reason::BytesBetween {
                min: 1,
                max: KV_MAX_KEY,
            },
        ));
    }
    Ok(())
}

/// How much one plugin may keep in its key-value store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KvQuota {
    /// Keys at most.
    pub keys: u64,
    /// Bytes of keys and values together at most.
    pub bytes: u64,
}

impl Default for KvQuota {
    fn default() -> Self {
        KvQuota {
            keys: 100_000,
            bytes: 64 * 1024 * 1024,
        }
    }
}

impl Store {
    /// Every installed plugin, by id.
    pub fn plugins(&self) -> Result<Vec<PluginRow>> {
        self.read(|c| {
            let mut stmt =
                c.prepare_cached(&format!("SELECT {COLUMNS} FROM plugins ORDER BY id"))?;
            let rows = stmt.query_map([], row)?.collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
    }

    /// One installed plugin.
    pub fn plugin(&self, id: &str) -> Result<Option<PluginRow>> {
        self.read(|c| {
            Ok(
                c.prepare_cached(&format!("SELECT {COLUMNS} FROM plugins WHERE id = ?1"))?
                    .query_row([id], row)
                    .optional()?,
            )
        })
    }

    /// Records a plugin as installed at a version (insert or replace), and keeps the version.
    pub fn put_plugin(&self, p: &PluginRow) -> Result<()> {
        let now = db::now_text();
        self.write(|tx| {
            tx.execute(
                &format!(
                    "INSERT INTO plugins ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)
                     ON CONFLICT (id) DO UPDATE SET version = ?2, enabled = ?3, status = ?4, error = ?5,
                       manifest = ?6, sha256 = ?7, approved = ?8, config = ?9, updated_at = ?10"
                ),
                crate::db::params![
                    p.id, p.version, p.enabled, p.status, p.error, p.manifest, p.sha256, p.approved, p.config, now
                ],
            )?;
            tx.execute(
                "INSERT INTO plugin_versions (plugin, version, sha256, manifest, installed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (plugin, version) DO UPDATE SET sha256 = ?3, manifest = ?4, installed_at = ?5",
                (&p.id, &p.version, &p.sha256, &p.manifest, &now),
            )?;
            Ok(())
        })
    }

    /// Keeps a component's bytes, by their SHA-256, for every host to load (see
    /// [`Store::plugin_component`]), replacing what was kept under that hash (a damaged copy;
    /// the caller checked the bytes against the hash).
    pub fn put_plugin_component(&self, sha256: &str, bytes: &[u8]) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO plugin_components (sha256, bytes) VALUES (?1, ?2)
                 ON CONFLICT (sha256) DO UPDATE SET bytes = ?2",
                (sha256, bytes),
            )?;
            Ok(())
        })
    }

    /// A kept component's bytes, by their SHA-256.
    pub fn plugin_component(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
        self.read(|c| {
            Ok(
                c.prepare_cached("SELECT bytes FROM plugin_components WHERE sha256 = ?1")?
                    .query_row([sha256], |r| r.get(0))
                    .optional()?,
            )
        })
    }

    /// Whether a component is kept (without reading it).
    pub fn has_plugin_component(&self, sha256: &str) -> Result<bool> {
        self.read(|c| {
            Ok(
                c.prepare_cached("SELECT 1 FROM plugin_components WHERE sha256 = ?1")?
                    .query_row([sha256], |r| r.get::<_, i64>(0))
                    .optional()?
                    .is_some(),
            )
        })
    }

    /// Changes a plugin's enabled flag, status and error.
    pub fn set_plugin_status(
        &self,
        id: &str,
        enabled: bool,
        status: &str,
        error: Option<&str>,
    ) -> Result<()> {
        let n = self.write(|tx| {
            Ok(tx.execute(
                "UPDATE plugins SET enabled = ?2, status = ?3, error = ?4, updated_at = ?5 WHERE id = ?1",
                (id, enabled, status, error, db::now_text()),
            )?)
        })?;
        if n == 0 {
            return Err(Error::NotFound(format!("no plugin '{id}'")));
        }
        Ok(())
    }

    /// Sets a plugin's configuration (a JSON object).
    pub fn set_plugin_config(&self, id: &str, config: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute("UPDATE plugins SET config = ?2 WHERE id = ?1", (id, config))?;
            Ok(())
        })
    }

    /// Kept versions of a plugin, newest install first.
    pub fn plugin_versions(&self, id: &str) -> Result<Vec<PluginVersionRow>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT plugin, version, sha256, manifest, installed_at FROM plugin_versions
                 WHERE plugin = ?1 ORDER BY installed_at DESC, version DESC",
            )?;
            let rows = stmt
                .query_map([id], |r| {
                    Ok(PluginVersionRow {
                        plugin: r.get(0)?,
                        version: r.get(1)?,
                        sha256: r.get(2)?,
                        manifest: r.get(3)?,
                        installed_at: r.get(4)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
    }

    /// Forgets a plugin. With `purge`, also deletes its key-value store, its entity types'
    /// tables and their history; without, the data stays (entity types retired).
    pub fn remove_plugin(&self, id: &str, purge: bool) -> Result<()> {
        let origin = Origin::Plugin(id.to_string());
        if purge {
            self.purge_origin(&origin)?;
        } else {
            self.retire_origin(&origin)?;
        }
        self.write(|tx| {
            tx.execute("DELETE FROM plugins WHERE id = ?1", [id])?;
            tx.execute("DELETE FROM plugin_versions WHERE plugin = ?1", [id])?;
            tx.execute(
                "DELETE FROM plugin_components
                 WHERE sha256 NOT IN (SELECT sha256 FROM plugin_versions)",
                [],
            )?;
            if purge {
                tx.execute("DELETE FROM plugin_kv WHERE plugin = ?1", [id])?;
                tx.execute("DELETE FROM plugin_jobs WHERE plugin = ?1", [id])?;
            }
            Ok(())
        })
    }

    /// A value of a plugin's key-value store.
    pub fn kv_get(&self, plugin: &str, key: &str) -> Result<Option<Vec<u8>>> {
        check_key(key)?;
        self.read(|c| {
            Ok(
                c.prepare_cached("SELECT value FROM plugin_kv WHERE plugin = ?1 AND key = ?2")?
                    .query_row((plugin, key), |r| r.get(0))
                    .optional()?,
            )
        })
    }

    /// Writes a value of a plugin's key-value store, within the plugin's quota (keys, and
    /// bytes of keys and values together): a write that would pass it is refused as a
    /// conflict naming the quota, and nothing is written.
    pub fn kv_set(&self, plugin: &str, key: &str, value: &[u8], quota: KvQuota) -> Result<()> {
        check_key(key)?;
        if value.len() > KV_MAX_VALUE {
            return Err(Error::field(
                "value",
                Reason::TooManyBytes { max: KV_MAX_VALUE },
            ));
        }
        self.write(|tx| put_kv(tx, plugin, key, value, quota))
    }

    /// Adds `delta` to the integer a key holds (decimal ASCII; a missing key counts as 0) and
    /// returns the new value — one atomic step, so concurrent increments are never lost.
    pub fn kv_increment(&self, plugin: &str, key: &str, delta: i64, quota: KvQuota) -> Result<i64> {
        check_key(key)?;
        self.write(|tx| {
            let current = get_kv(tx, plugin, key)?;
            let now = match current {
                None => 0,
                Some(bytes) => std::str::from_utf8(&bytes)
                    .ok()
                    .and_then(|t| t.trim().parse::<i64>().ok())
                    .ok_or_else(|| Error::field(key, Reason::NotInteger))?,
            };
            let next = now
                .checked_add(delta)
                .ok_or_else(|| Error::field(key, Reason::NotInteger))?;
            put_kv(tx, plugin, key, next.to_string().as_bytes(), quota)?;
            Ok(next)
        })
    }

    /// Sets a key to `new` (`None` removes it) only if it holds `expected` now (`None`:
    /// absent); returns whether it did. One atomic step.
    pub fn kv_compare_and_set(
        &self,
        plugin: &str,
        key: &str,
        expected: Option<&[u8]>,
        new: Option<&[u8]>,
        quota: KvQuota,
    ) -> Result<bool> {
        check_key(key)?;
        if new.is_some_and(|v| v.len() > KV_MAX_VALUE) {
            return Err(Error::field(
                "value",
                Reason::TooManyBytes { max: KV_MAX_VALUE },
            ));
        }
        self.write(|tx| {
            if get_kv(tx, plugin, key)?.as_deref() != expected {
                return Ok(false);
            }
            match new {
                Some(v) => put_kv(tx, plugin, key, v, quota)?,
                None => {
                    tx.execute(
                        "DELETE FROM plugin_kv WHERE plugin = ?1 AND key = ?2",
                        (plugin, key),
                    )?;
                }
            }
            Ok(true)
        })
    }

    /// Removes a key of a plugin's key-value store.
    pub fn kv_delete(&self, plugin: &str, key: &str) -> Result<()> {
        check_key(key)?;
        self.write(|tx| {
            tx.execute(
                "DELETE FROM plugin_kv WHERE plugin = ?1 AND key = ?2",
                (plugin, key),
            )?;
            Ok(())
        })
    }

    /// What a plugin's key-value store holds: `(keys, bytes)`.
    pub fn kv_usage(&self, plugin: &str) -> Result<(u64, u64)> {
        self.read(|c| {
            Ok(
                c.prepare_cached("SELECT keys, bytes FROM plugin_kv_usage WHERE plugin = ?1")?
                    .query_row([plugin], |r| {
                        Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64))
                    })
                    .optional()?
                    .unwrap_or((0, 0)),
            )
        })
    }

    /// Keys of a plugin's store starting with `prefix` (at most 10,000), sorted.
    pub fn kv_keys(&self, plugin: &str, prefix: &str) -> Result<Vec<String>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT key FROM plugin_kv WHERE plugin = ?1 AND substr(key, 1, length(?2)) = ?2
                 ORDER BY key LIMIT 10000",
            )?;
            let keys = stmt
                .query_map((plugin, prefix), |r| r.get(0))?
                .collect::<Result<Vec<String>, _>>()?;
            Ok(keys)
        })
    }
}

fn get_kv(tx: &crate::db::Conn, plugin: &str, key: &str) -> Result<Option<Vec<u8>>> {
    Ok(tx
        .prepare_cached("SELECT value FROM plugin_kv WHERE plugin = ?1 AND key = ?2")?
        .query_row((plugin, key), |r| r.get(0))
        .optional()?)
}

/// Writes a key within the plugin's quota (keys, and bytes of keys and values together): a
/// write that would pass it is refused as a conflict naming the quota.
fn put_kv(
    tx: &crate::db::Conn,
    plugin: &str,
    key: &str,
    value: &[u8],
    quota: KvQuota,
) -> Result<()> {
    // What the plugin holds, and what this key takes of it now (keys in UTF-8 bytes, as the
    // usage triggers count them): one round trip.
    let key_bytes = if tx.is_postgres() {
        "octet_length(key)"
    } else {
        "length(CAST(key AS BLOB))"
    };
    let (keys, bytes, old): (i64, i64, Option<i64>) = tx
        .prepare_cached(&format!(
            "SELECT COALESCE((SELECT keys FROM plugin_kv_usage WHERE plugin = ?1), 0),
                    COALESCE((SELECT bytes FROM plugin_kv_usage WHERE plugin = ?1), 0),
                    (SELECT {key_bytes} + length(value) FROM plugin_kv
                      WHERE plugin = ?1 AND key = ?2)"
        ))?
        .query_row((plugin, key), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    let new_keys = keys + i64::from(old.is_none());
    let new_bytes = bytes - old.unwrap_or(0) + (key.len() + value.len()) as i64;
    if new_keys > quota.keys as i64 || new_bytes > quota.bytes as i64 {
        return Err(Error::conflict(format!(
            "plugin '{plugin}' has used its key-value quota ({} keys, {} bytes); \
                     delete keys or ask an administrator to raise the quota",
            quota.keys, quota.bytes
        )));
    }
    tx.prepare_cached(
        "INSERT INTO plugin_kv (plugin, key, value) VALUES (?1, ?2, ?3)
                 ON CONFLICT (plugin, key) DO UPDATE SET value = ?3",
    )?
    .execute((plugin, key, value))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::KvQuota;
    use crate::{Error, Store, StoreOptions};

    #[test]
    fn kv_stays_within_its_quota_and_counts_what_it_holds() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(StoreOptions::new(dir.path().join("q.db"))).unwrap();
        let quota = KvQuota { keys: 2, bytes: 20 };
        s.kv_set("p", "a", b"12345", quota).unwrap();
        s.kv_set("p", "a", b"1234567", quota).unwrap();
        assert_eq!(
            s.kv_usage("p").unwrap(),
            (1, 8),
            "a replaced value counts once"
        );
        s.kv_set("p", "b", b"123", quota).unwrap();
        let third = s.kv_set("p", "c", b"", quota).unwrap_err();
        assert!(matches!(third, Error::Conflict { .. }), "{third}");
        assert!(third.to_string().contains("quota"), "{third}");
        let big = s.kv_set("p", "b", b"0123456789AB", quota).unwrap_err();
        assert!(matches!(big, Error::Conflict { .. }), "bytes too: {big}");
        assert_eq!(
            s.kv_get("p", "b").unwrap().unwrap(),
            b"123",
            "nothing written"
        );
        assert_eq!(s.kv_usage("p").unwrap(), (2, 12));
        s.kv_delete("p", "a").unwrap();
        assert_eq!(s.kv_usage("p").unwrap(), (1, 4));
        s.kv_set("p", "c", b"", quota).unwrap();
        assert_eq!(
            s.kv_usage("other").unwrap(),
            (0, 0),
            "quotas are per plugin"
        );
        s.kv_set("other", "a", b"12345", quota).unwrap();
    }

    /// Keys count their bytes (UTF-8) against the quota, as values do, on both backends.
    #[test]
    fn keys_count_their_bytes_not_their_characters() {
        let (_place, s) = crate::store::tests::store();
        let quota = KvQuota {
            keys: 10,
            bytes: 12,
        };
        s.kv_set("p", "键名", b"1234", quota).unwrap();
        assert_eq!(
            s.kv_usage("p").unwrap(),
            (1, 10),
            "6 bytes of key, 4 of value"
        );
        s.kv_set("p", "键名", b"123456", quota).unwrap();
        assert_eq!(s.kv_usage("p").unwrap(), (1, 12));
        // One Chinese character more is three bytes: past the quota.
        let past = s.kv_set("p", "甲", b"", quota).unwrap_err();
        assert!(matches!(past, Error::Conflict { .. }), "{past}");
        s.kv_delete("p", "键名").unwrap();
        assert_eq!(s.kv_usage("p").unwrap(), (0, 0));
        s.kv_set("p", "甲", b"", quota).unwrap();
        assert_eq!(s.kv_usage("p").unwrap(), (1, 3));
    }

    /// An install upgraded to migration 27 has its usage counted again in bytes.
    #[test]
    fn an_upgrade_counts_again_what_keys_take() {
        let (place, s) = crate::store::tests::store();
        let quota = KvQuota {
            keys: 10,
            bytes: 100,
        };
        s.kv_set("p", "键名", b"1234", quota).unwrap();
        s.write(|tx| {
            // As the triggers before counted it (characters of the key), one version back.
            tx.execute("UPDATE plugin_kv_usage SET bytes = 6", [])?;
            if tx.is_postgres() {
                tx.execute("UPDATE qg_schema_version SET version = 26", [])?;
            } else {
                tx.execute_batch("PRAGMA user_version = 26")?;
            }
            Ok(())
        })
        .unwrap();
        drop(s);
        let again = place.open_again();
        assert_eq!(again.kv_usage("p").unwrap(), (1, 10));
    }

    #[test]
    fn kv_increments_and_compare_and_set_are_atomic() {
        let dir = tempfile::tempdir().unwrap();
        let s =
            std::sync::Arc::new(Store::open(StoreOptions::new(dir.path().join("q.db"))).unwrap());
        let quota = KvQuota {
            keys: 10,
            bytes: 1000,
        };
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let s = s.clone();
                std::thread::spawn(move || {
                    for _ in 0..50 {
                        s.kv_increment("p", "n", 2, quota).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(s.kv_get("p", "n").unwrap().unwrap(), b"800");
        assert_eq!(s.kv_increment("p", "n", -801, quota).unwrap(), -1);
        s.kv_set("p", "t", b"abc", quota).unwrap();
        assert!(s.kv_increment("p", "t", 1, quota).is_err(), "not a number");
        assert!(!s
            .kv_compare_and_set("p", "t", Some(b"x"), Some(b"y"), quota)
            .unwrap());
        assert!(s
            .kv_compare_and_set("p", "t", Some(b"abc"), Some(b"y"), quota)
            .unwrap());
        assert!(!s
            .kv_compare_and_set("p", "new", Some(b"y"), Some(b"z"), quota)
            .unwrap());
        assert!(s
            .kv_compare_and_set("p", "new", None, Some(b"z"), quota)
            .unwrap());
        assert!(s
            .kv_compare_and_set("p", "new", Some(b"z"), None, quota)
            .unwrap());
        assert_eq!(s.kv_get("p", "new").unwrap(), None);
        assert_eq!(s.kv_get("p", "t").unwrap().unwrap(), b"y");
    }
}
