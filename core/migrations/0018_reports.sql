-- Saved reports: a person's definition (entity type, filter, grouping, figure, chart, the
-- roles it is shared with), run by each reader within their own reach.
CREATE TABLE reports (
    id         INTEGER PRIMARY KEY,
    owner      INTEGER NOT NULL,
    name       TEXT NOT NULL,
    def        TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX reports_owner ON reports (owner);
