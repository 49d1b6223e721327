//! How a store is opened ([`StoreOptions`]): its database file or PostgreSQL database, its
//! readers, and whether it serves the database.

use crate::db;
use crate::Result;
use std::path::PathBuf;

/// How to open a store.
#[derive(Clone)]
pub struct StoreOptions {
    /// The database file (created if missing). Its directory is the install's data
    /// directory: on Unix the store keeps it private (0700) and the database files 0600.
    /// With `postgres` set, no file is made there.
    pub path: PathBuf,
    /// Reader connections kept open for reuse.
    pub max_idle_readers: usize,
    /// A PostgreSQL database to use instead of the file
    /// (`postgres://user:password@host:port/database`).
    pub postgres: Option<String>,
    /// Serve the database (PostgreSQL: beside other hosts of the same version; a host that
    /// would migrate the schema under hosts of an older version is refused before it migrates
    /// a thing, and an older host is refused beside newer ones).
    pub serve: bool,
}

impl std::fmt::Debug for StoreOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The PostgreSQL URL may carry a password: never shown.
        f.debug_struct("StoreOptions")
            .field("path", &self.path)
            .field("max_idle_readers", &self.max_idle_readers)
            .field("postgres", &self.postgres.as_ref().map(|_| "…"))
            .field("serve", &self.serve)
            .finish()
    }
}

impl StoreOptions {
    /// Defaults for a database file.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        StoreOptions {
            path: path.into(),
            max_idle_readers: 8,
            postgres: None,
            serve: false,
        }
    }

    /// The same, opened by the server that will serve the database.
    pub fn to_serve(self) -> Self {
        StoreOptions {
            serve: true,
            ..self
        }
    }

    /// A PostgreSQL database at `url`.
    pub fn postgres(url: impl Into<String>) -> Self {
        StoreOptions {
            postgres: Some(url.into()),
            ..StoreOptions::new(PathBuf::new())
        }
    }

    /// Opens one connection to the database.
    pub(super) fn connect(&self, cache_kib: i64) -> Result<db::Conn> {
        match &self.postgres {
            Some(url) => db::open_postgres(url),
            None => db::open(&self.path, cache_kib),
        }
    }
}
