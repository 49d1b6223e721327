//! The install's database reached straight, without the store: the baseline of a query the
//! store makes (SQLite's file, or the PostgreSQL database the install runs on).

use qingguan_tests::TestServer;

/// A connection of its own to the install's database.
pub enum RawDb {
    Sqlite(rusqlite::Connection),
    Postgres(Box<postgres::Client>),
}

impl RawDb {
    /// Connects to the database `server` runs on.
    pub fn open(server: &TestServer) -> anyhow::Result<RawDb> {
        Ok(match server.postgres_url() {
            Some(url) => {
                RawDb::Postgres(Box::new(postgres::Client::connect(url, postgres::NoTls)?))
            }
            None => RawDb::Sqlite(rusqlite::Connection::open(
                server.dir.path().join("qingguan.db"),
            )?),
        })
    }

    /// Runs `sql` (no parameters; the same text on both backends) and returns how many rows it
    /// gave.
    pub fn rows(&mut self, sql: &str) -> anyhow::Result<usize> {
        Ok(match self {
            RawDb::Sqlite(c) => c.prepare_cached(sql)?.query_map([], |_| Ok(()))?.count(),
            RawDb::Postgres(c) => c.query(sql, &[])?.len(),
        })
    }
}
