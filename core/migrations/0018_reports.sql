-- Saved reports: a person's definition (entity type, filter, grouping, figure, chart, the
-- roles it is shared with), run by each reader within their own reach. `indexed`: saved by an
-- administrator, so its covering index is kept (other people's reports are not indexed).
CREATE TABLE reports (
    id         INTEGER PRIMARY KEY,
    owner      INTEGER NOT NULL,
    name       TEXT NOT NULL,
    def        TEXT NOT NULL,
    indexed    INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL
);
CREATE INDEX reports_owner ON reports (owner);
