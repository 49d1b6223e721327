//! The record store: one SQLite database in WAL mode, one writer connection and a pool of
//! readers, with the effective schema and the roles cached in memory.

mod activities;
pub mod aggregate;
pub(crate) mod attachments;
mod backup;
mod call_scope;
pub mod changes;
mod copy;
pub use copy::{copy_to_postgres, CopyReport};
mod custom;
pub use backup::{restore_install, InstallFile};
pub use call_scope::CallScope;
mod approvals;
mod delegations;
mod duplicates;
pub(crate) mod exchange_rates;
mod field_rules;
mod formulas;
mod group_commit;
mod history;
pub mod hosts;
mod input;
mod integrity;
mod kept_by_state;
mod kept_pages;
mod kept_records;
mod kept_settings;
mod keyset;
mod list;
mod list_plan;
mod merge;
mod options;
mod outbox;
mod overlay;
mod readers;
mod record_reads;
mod records;
mod registry;
mod rows;
mod scope;
mod selectivity;
mod sequences;
mod storage;
mod stretch;
#[cfg(test)]
pub(crate) mod tests;
pub(crate) mod text_match;
mod workflows;
pub use activities::{TimelineItem, TimelinePage};
pub use attachments::{clean_name, sniff, AttachmentInfo, MAX_ATTACHMENTS, MAX_ATTACHMENT_BYTES};
pub use delegations::Delegation;
pub use duplicates::{comparable_name, LikelyDuplicate};
pub use merge::{MergeOutcome, MergeRequest};
pub use options::StoreOptions;
pub use workflows::{Approval, Decision, OpenTransition, RecordWorkflow, TransitionOutcome};

pub(crate) use field_rules::{hides_any, seen_text_condition};
pub use kept_pages::PageJson;
pub(crate) use kept_settings::KeptSettings;
pub use record_reads::RecordJson;
pub(crate) use records::Imported;
pub(crate) use scope::scope_condition as scope_sql;

use crate::access::Role;
use crate::db;
use crate::db::Conn;
use crate::hooks::{Hooks, NoHooks};
use crate::schema::{builtin_entities, Origin, Schema};
use crate::{Error, Result};
use parking_lot::ReentrantMutex;
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};
use std::thread::ThreadId;

/// Hosts of another version serve the database: this one may not join them.
/// The refusal of a host that hosts of a newer version superseded.
fn superseded() -> Error {
    Error::Unavailable(
        "hosts of a newer version took this database over while this host's connection was \
         down: restart this host with their version"
            .to_string(),
    )
}

fn another_host() -> Error {
    Error::conflict(
        "qingguan hosts of another version serve this database: stop them before starting \
         this version (hosts of one version serve a database together)"
            .to_string(),
    )
}

/// The record store. Cheap to share behind an `Arc`; every method is thread-safe.
pub struct Store {
    options: StoreOptions,
    writer: Arc<ReentrantMutex<RefCell<Conn>>>,
    batch: Mutex<Option<ThreadId>>,
    readers: readers::Readers,
    schema: RwLock<Arc<Schema>>,
    roles: RwLock<Arc<HashMap<String, Arc<Role>>>>,
    hooks: RwLock<Arc<dyn Hooks>>,
    workflows: RwLock<workflows::Workflows>,
    pub(crate) webhooks: RwLock<outbox::Subscriptions>,
    /// The schema or roles were refreshed inside the open transaction (its writer holds it).
    caches_in_tx: std::sync::atomic::AtomicBool,
    /// Install settings once read (time zone, currency, default language).
    pub(crate) settings_cache: RwLock<KeptSettings>,
    /// The thread whose open transaction changed a setting: until it ends, that thread's
    /// reads skip `settings_cache` (its own change is not committed yet).
    pub(crate) settings_changed_by: Mutex<Option<std::thread::ThreadId>>,
    /// The schema as each role that limits fields sees it, with the snapshot it was made from.
    views: Mutex<HashMap<String, field_rules::View>>,
    /// What counting a list filter's matches said (see `selectivity.rs`).
    selectivity: Mutex<selectivity::Counts>,
    /// This process serves the database (holds the serving lock, `db::claim_serving`).
    serving: std::sync::atomic::AtomicBool,
    /// Hosts of another version took the database while this one's connection was down: it
    /// writes nothing more (`revive_writer`).
    superseded: std::sync::atomic::AtomicBool,
    /// This host's id among the hosts serving the database, once joined (`hosts.rs`).
    host: std::sync::OnceLock<String>,
    /// The database's clock, which hosts compare times on (`hosts.rs`).
    clock: hosts::SharedClock,
    /// The generation of each topic of `changes` as last picked up (`changes.rs`).
    changes_seen: Mutex<changes::Seen>,
    /// Calls' transactions left open for the next call, committed together (`group_commit.rs`).
    group: group_commit::GroupCommit,
    /// Records read lately, given out again while the database is unchanged (SQLite).
    kept: kept_records::KeptRecords,
    /// List pages read lately, as the API writes them, given out again likewise (SQLite).
    pages: kept_pages::KeptPages,
    /// The thread that checkpoints the write-ahead log outside the writer's commits (SQLite).
    checkpoints: Option<db::checkpoints::Checkpointer>,
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
        if options.postgres.is_none() {
            db::prepare_files(&options.path)?;
        }
        let mut writer = options.connect(32_000)?;
        let serving = options.serve && options.postgres.is_some();
        let claim = match serving {
            true => Some(db::claim_serving(&writer)?.ok_or_else(another_host)?),
            false => None,
        };
        let alone = match serving {
            true => false,
            false => db::claim_to_migrate(&writer)?.ok_or_else(another_host)?,
        };
        db::migrations::run(&mut writer)?;
        db::search_waiting::prepare(&writer)?;
        if let Some(claim) = claim {
            db::serve_beside_others(&writer, claim)?;
        }
        if alone {
            db::migrated_alone(&writer)?;
        }
        let tx = writer.immediate_transaction()?;
        storage::upgrade_storage_names(&tx)?;
        tx.commit()?;
        registry::keep_every_field_index(&mut writer)?;
        storage::upgrade_search_format(&mut writer)?;
        // The writer has committed by now (migrations, storage names): the WAL index is there.
        let kept = kept_records::KeptRecords::new(&mut writer);
        let checkpoints = options
            .postgres
            .is_none()
            .then(|| db::checkpoints::Checkpointer::start(&options.path, &mut writer));
        let store = Store {
            options,
            writer: Arc::new(ReentrantMutex::new(RefCell::new(writer))),
            batch: Mutex::new(None),
            readers: Default::default(),
            schema: RwLock::new(Arc::new(Schema::default())),
            roles: RwLock::new(Arc::new(HashMap::new())),
            hooks: RwLock::new(Arc::new(NoHooks)),
            workflows: RwLock::new(Arc::default()),
            webhooks: RwLock::new(Arc::default()),
            caches_in_tx: std::sync::atomic::AtomicBool::new(false),
            settings_cache: RwLock::new(Default::default()),
            settings_changed_by: Mutex::new(None),
            views: Mutex::new(HashMap::new()),
            selectivity: Mutex::new(Default::default()),
            serving: std::sync::atomic::AtomicBool::new(serving),
            superseded: std::sync::atomic::AtomicBool::new(false),
            host: std::sync::OnceLock::new(),
            clock: hosts::SharedClock::default(),
            changes_seen: Mutex::new(Default::default()),
            group: Default::default(),
            kept,
            pages: Default::default(),
            checkpoints,
        };
        store.apply_base(&Origin::Core, &builtin_entities())?;
        store.write(changes::install_triggers)?;
        store.write(db::ddl::ensure_tables_watched)?;
        store.seed_roles()?;
        store.load_workflows()?;
        store.load_webhooks()?;
        Ok(store)
    }

    /// Refreshes the query planner's statistics where they are stale (`PRAGMA optimize` with
    /// an analysis limit): without them SQLite guesses that an equality filter on a select
    /// field is selective and sorts its matches, where walking the sort index is far cheaper.
    /// Then renews the reader connections, which would plan with the statistics they loaded
    /// when they opened. Cheap when nothing changed; run at start-up and periodically.
    pub fn optimize(&self) -> Result<()> {
        if self.is_postgres() {
            return Ok(()); // PostgreSQL's autovacuum keeps its statistics
        }
        self.write(|c| {
            c.execute_batch("PRAGMA analysis_limit = 1000; PRAGMA optimize = 0x10002;")?;
            Ok(())
        })?;
        // Readers see new statistics only in connections opened after them.
        self.readers.renew();
        Ok(())
    }

    /// Keeps records and list pages read lately for the next read of each while the database
    /// is unchanged (the default), or not: every read then reads the database (for measuring
    /// either way).
    pub fn set_keep_records(&self, on: bool) {
        self.kept.set_on(on);
        if !on {
            self.pages.clear();
        }
    }

    /// Checkpoints of the write-ahead log run on a thread of their own (the default), or
    /// inside the writer's commits as by SQLite's default (for measuring). Nothing on
    /// PostgreSQL.
    pub fn set_checkpoints_aside(&self, on: bool) {
        if let Some(checkpoints) = &self.checkpoints {
            checkpoints.set_aside(on);
        }
    }

    /// Checkpoints the thread of [`Store::set_checkpoints_aside`] has run since the store
    /// opened.
    pub fn checkpoints_aside(&self) -> u64 {
        self.checkpoints.as_ref().map_or(0, |c| c.done())
    }

    /// The database file (empty on PostgreSQL).
    pub fn path(&self) -> &Path {
        &self.options.path
    }

    /// Replaces the writer's connection if it was found gone (PostgreSQL restarted, a network
    /// dropped it — known after the statement that met it), between transactions; the serving
    /// claim, if held, is taken again on the new one. SQLite's never is. Costs two atomic
    /// reads. If hosts of another version took the database meanwhile (one holds the serving
    /// lock alone, or the schema is newer than this build's), this store is superseded: this
    /// write and every later one are refused, and [`Store::superseded`] says so.
    pub(crate) fn revive_writer(&self, writer: &RefCell<db::Conn>) -> Result<()> {
        use std::sync::atomic::Ordering::Relaxed;
        if self.superseded.load(Relaxed) {
            return Err(superseded());
        }
        if !self.is_postgres() || !writer.borrow().is_broken() {
            return Ok(());
        }
        tracing::warn!("the database connection of the writer was lost; connecting again");
        let conn = self.options.connect(32_000)?;
        // Checked before the connection is installed: a check that fails leaves the broken
        // one in place, so the next write checks again.
        if self.serving.load(Relaxed) {
            let newer = db::migrations::newer(&conn)?;
            if !db::serve_again(&conn)? || newer {
                self.superseded.store(true, Relaxed);
                tracing::error!(
                    "hosts of a newer version took this database while the connection was \
                     down: this host uses it no more; restart it with their version"
                );
                // Dropping the connection lets go of its serving lock, so that it holds up
                // no later migration.
                drop(conn);
                return Err(superseded());
            }
        }
        *writer.borrow_mut() = conn;
        Ok(())
    }

    /// Hosts of another version took the database while this one's connection was down: it
    /// refuses every write, and should be restarted with their version.
    pub fn superseded(&self) -> bool {
        self.superseded.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The store runs on PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        self.options.postgres.is_some()
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
        if self.is_postgres() {
            return Err(Error::conflict(
                "this install runs on PostgreSQL: back it up with pg_dump".to_string(),
            ));
        }
        if target.exists() {
            return Err(Error::conflict(format!(
                "{} already exists",
                target.display()
            )));
        }
        self.read(|c| db::backup_to(c, target))
    }

    fn set_batch(&self, here: bool) {
        *self.batch.lock().unwrap_or_else(|e| e.into_inner()) =
            here.then(|| std::thread::current().id());
    }

    pub(crate) fn in_batch_here(&self) -> bool {
        *self.batch.lock().unwrap_or_else(|e| e.into_inner()) == Some(std::thread::current().id())
    }

    /// Runs `f` on a reader connection from the pool — or, inside a [`Store::transaction`] on
    /// this thread, on the writer, so that the batch sees its own uncommitted changes.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Conn) -> Result<T>) -> Result<T> {
        if self.in_batch_here() {
            let guard = self.writer.lock();
            let conn = guard.borrow();
            // The transaction's new records are found by a search in it.
            db::search_waiting::write_waiting(&conn, false)?;
            return f(&conn);
        }
        if self.superseded() {
            return Err(superseded());
        }
        let cap = if self.is_postgres() {
            readers::POSTGRES_READERS
        } else {
            usize::MAX // SQLite readers are cheap and never refused
        };
        let mut conn = self.readers.take(cap, self.options.max_idle_readers, || {
            self.options.connect(16_000)
        })?;
        let out = f(&conn);
        if out.is_err() && conn.is_broken() {
            conn.discard(); // a dead connection is closed, not pooled
        }
        out
    }

    /// Runs `f` as one atomic write on the writer connection: its own immediate transaction,
    /// or a savepoint inside a [`Store::transaction`]. Commits if `f` returns `Ok`, rolls
    /// back otherwise — nothing is ever half-written.
    pub(crate) fn write<T>(&self, f: impl FnOnce(&Conn) -> Result<T>) -> Result<T> {
        self.join_call_scope()?;
        let guard = self.writer.lock();
        if !self.in_batch_here() {
            self.commit_open_group(&guard.borrow());
            self.revive_writer(&guard)?;
        }
        let mut conn = guard.borrow_mut();
        if self.in_batch_here() {
            if conn.is_autocommit() {
                // SQLite ended the batch's transaction itself (an I/O error, a full disk):
                // writing on would commit part of a batch that has already failed.
                return Err(Error::Database(
                    "the transaction was rolled back by the database; the call fails".into(),
                ));
            }
            conn.execute_kept("SAVEPOINT qg_write")?;
            return match f(&conn) {
                Ok(v) => {
                    conn.execute_kept("RELEASE qg_write")?;
                    Ok(v)
                }
                Err(e) => {
                    conn.execute_batch("ROLLBACK TO qg_write; RELEASE qg_write")?;
                    Err(e)
                }
            };
        }
        let tx = conn.immediate_transaction()?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Runs `f` — any number of store calls made on this thread, including writes by plugin
    /// hooks — as one transaction: all of it commits, or (on `Err`, or if the process dies
    /// first) none of it does. Other threads' writes wait; their reads see the state before.
    pub fn transaction<T, E: From<Error>>(
        &self,
        f: impl FnOnce() -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        self.join_call_scope()?;
        let guard = self.writer.lock();
        if self.in_batch_here() {
            // Nested: a savepoint, so that a failing inner batch undoes only its own part.
            let scope = self.begin_call()?;
            let out = f();
            scope.finish(out.is_ok())?;
            return out;
        }
        self.commit_open_group(&guard.borrow());
        self.revive_writer(&guard)?;
        guard
            .borrow()
            .execute_kept("BEGIN IMMEDIATE")
            .map_err(Error::from)?;
        self.set_batch(true);
        // A panic inside `f` must not leave the thread marked as in a batch with the
        // transaction open: the guard rolls back and clears the mark.
        struct Unwind<'a>(&'a Store, bool);
        impl Drop for Unwind<'_> {
            fn drop(&mut self) {
                if self.1 {
                    self.0.set_batch(false);
                    let _ = self.0.writer.lock().borrow().execute_batch("ROLLBACK");
                    self.0.settings_after_transaction();
                }
            }
        }
        let mut unwind = Unwind(self, true);
        let out = f();
        unwind.1 = false;
        self.set_batch(false);
        let end = match &out {
            Ok(_) => guard.borrow().commit(),
            Err(_) => guard.borrow().execute_batch("ROLLBACK"),
        };
        if end.is_err() {
            // Before the writer is let go of: once free, the open transaction may be another
            // call's (group commit).
            let _ = guard.borrow().execute_batch("ROLLBACK");
        }
        self.settings_after_transaction();
        // Taken while the writer is held: once it is let go of, the flag is the next call's.
        self.take_cache_refresh();
        drop(guard);
        if let Err(e) = end {
            let _ = self.refresh_schema();
            return Err(Error::from(e).into());
        }
        self.refresh_schema()?;
        self.read(|c| self.reload_roles(c))?;
        out
    }

    /// Notes that the schema or role caches were read inside an open transaction, so that a
    /// rollback reads them again (and only then).
    pub(crate) fn note_cache_refresh(&self) {
        if self.in_batch_here() {
            self.caches_in_tx
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }

    pub(crate) fn reload_roles(&self, conn: &Conn) -> Result<()> {
        self.note_cache_refresh();
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
        self.write(|tx| {
            for role in Role::defaults() {
                let def = serde_json::to_string(&role).unwrap_or_default();
                tx.execute(
                    "INSERT OR IGNORE INTO roles (name, def) VALUES (?1, ?2)",
                    (&role.name, &def),
                )?;
                // A built-in role of an install from before exchange rates gains its default
                // on them (finance keeps them); one that names them already keeps its own.
                let rate = crate::schema::EXCHANGE_RATE;
                let Some(p) = role.permissions.get(rate) else {
                    continue;
                };
                let stored: Option<String> = tx
                    .prepare_cached("SELECT def FROM roles WHERE name = ?1")?
                    .query_row([&role.name], |r| r.get(0))
                    .ok();
                let Some(mut stored) = stored
                    .and_then(|s: String| serde_json::from_str::<Role>(&s).ok())
                    .filter(|r| !r.permissions.contains_key(rate))
                else {
                    continue;
                };
                stored.permissions.insert(rate.to_string(), *p);
                tx.execute(
                    "UPDATE roles SET def = ?2 WHERE name = ?1",
                    (
                        &role.name,
                        serde_json::to_string(&stored).unwrap_or_default(),
                    ),
                )?;
            }
            Ok(())
        })?;
        self.read(|c| self.reload_roles(c))
    }
}
