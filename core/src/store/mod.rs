//! The record store: one SQLite database in WAL mode, one writer connection and a pool of
//! readers, with the effective schema and the roles cached in memory.

mod history;
mod list;
mod records;
mod registry;
#[cfg(test)]
mod tests;

pub(crate) use records::scope_condition as scope_sql;

use crate::access::Role;
use crate::db;
use crate::hooks::{Hooks, NoHooks};
use crate::schema::{builtin_entities, Origin, Schema};
use crate::{Error, Result};
use rusqlite::{Connection, Transaction, TransactionBehavior};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

/// How to open a store.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// The database file (created if missing).
    pub path: PathBuf,
    /// Reader connections kept open for reuse.
    pub max_idle_readers: usize,
}

impl StoreOptions {
    /// Defaults for a database file.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        StoreOptions {
            path: path.into(),
            max_idle_readers: 8,
        }
    }
}

/// The record store. Cheap to share behind an `Arc`; every method is thread-safe.
pub struct Store {
    options: StoreOptions,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    schema: RwLock<Arc<Schema>>,
    roles: RwLock<Arc<HashMap<String, Arc<Role>>>>,
    hooks: RwLock<Arc<dyn Hooks>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.options.path)
            .finish()
    }
}

impl Store {
    /// Opens (creating if needed) the database, runs migrations, applies the core's base
    /// definitions and seeds the default roles.
    pub fn open(options: StoreOptions) -> Result<Store> {
        if let Some(dir) = options.path.parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(|e| {
                    Error::Database(format!("cannot create {}: {e}", dir.display()))
                })?;
            }
        }
        let mut writer = db::open(&options.path, 32_000)?;
        db::migrations::run(&mut writer)?;
        let store = Store {
            options,
            writer: Mutex::new(writer),
            readers: Mutex::new(Vec::new()),
            schema: RwLock::new(Arc::new(Schema::default())),
            roles: RwLock::new(Arc::new(HashMap::new())),
            hooks: RwLock::new(Arc::new(NoHooks)),
        };
        store.apply_base(&Origin::Core, &builtin_entities())?;
        store.seed_roles()?;
        Ok(store)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.options.path
    }

    /// The effective schema now. Cheap: a shared snapshot.
    pub fn schema(&self) -> Arc<Schema> {
        self.schema
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Installs the hooks that see every record write (the plugin runtime).
    pub fn set_hooks(&self, hooks: Arc<dyn Hooks>) {
        *self.hooks.write().unwrap_or_else(|e| e.into_inner()) = hooks;
    }

    pub(crate) fn hooks(&self) -> Arc<dyn Hooks> {
        self.hooks.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Copies the whole database to `target` while the store keeps serving (`VACUUM INTO`):
    /// the copy is a consistent snapshot. Fails if `target` exists.
    pub fn backup(&self, target: &Path) -> Result<()> {
        if target.exists() {
            return Err(Error::conflict(format!(
                "{} already exists",
                target.display()
            )));
        }
        self.read(|c| db::backup_to(c, target))
    }

    /// Runs `f` on a reader connection from the pool.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let conn = self.readers.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match conn {
            Some(c) => c,
            None => db::open(&self.options.path, 16_000)?,
        };
        let out = f(&conn);
        let mut pool = self.readers.lock().unwrap_or_else(|e| e.into_inner());
        if pool.len() < self.options.max_idle_readers {
            pool.push(conn);
        }
        out
    }

    /// Runs `f` in an immediate transaction on the writer; commits if it returns `Ok`,
    /// rolls back otherwise — nothing is ever half-written.
    pub(crate) fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Reloads the role cache.
    pub(crate) fn reload_roles(&self, conn: &Connection) -> Result<()> {
        let mut stmt = conn.prepare("SELECT def FROM roles")?;
        let defs = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        let mut map = HashMap::new();
        for def in defs {
            let role: Role = serde_json::from_str(&def)
                .map_err(|e| Error::Database(format!("stored role is unreadable: {e}")))?;
            map.insert(role.name.clone(), Arc::new(role));
        }
        *self.roles.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(map);
        Ok(())
    }

    pub(crate) fn roles_map(&self) -> Arc<HashMap<String, Arc<Role>>> {
        self.roles.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub(crate) fn role(&self, name: &str) -> Option<Arc<Role>> {
        self.roles
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .cloned()
    }

    fn seed_roles(&self) -> Result<()> {
        let mut conn = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let tx = conn.transaction()?;
        for role in Role::defaults() {
            let def = serde_json::to_string(&role).unwrap_or_default();
            tx.execute(
                "INSERT OR IGNORE INTO roles (name, def) VALUES (?1, ?2)",
                (&role.name, &def),
            )?;
        }
        tx.commit()?;
        self.reload_roles(&conn)
    }
}
