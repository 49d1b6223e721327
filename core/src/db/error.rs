//! Why a database call failed, whichever database it went to.

/// What a database call returns.
pub(crate) type DbResult<T> = std::result::Result<T, DbError>;

/// Why a database call failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DbError {
    /// A query asked for one row found none.
    #[error("query returned no rows")]
    NoRows,
    /// A column did not hold what the reader expected.
    #[error("column {column}: {why}")]
    Column { column: usize, why: String },
    /// A statement was given the wrong number of parameters.
    #[error("the statement takes {expected} parameters, {given} were given")]
    Parameters { expected: usize, given: usize },
    /// SQLite refused or failed.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL refused or failed (`code`: its SQLSTATE, empty if the connection failed).
    #[error("{message} ({code})")]
    Postgres { code: String, message: String },
}

impl DbError {
    /// SQLite was busy: another connection held what the statement needed.
    pub(crate) fn is_busy(&self) -> bool {
        matches!(
            self,
            DbError::Sqlite(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy
        )
    }

    /// A constraint (unique, foreign key, check) refused the write.
    pub(crate) fn is_constraint_violation(&self) -> bool {
        match self {
            DbError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => {
                e.code == rusqlite::ErrorCode::ConstraintViolation
            }
            DbError::Postgres { code, .. } => code.starts_with("23"),
            _ => false,
        }
    }
}
