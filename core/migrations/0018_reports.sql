-- Saved reports: a person's definition (entity type, filter, grouping, figure, chart, the
-- roles it is shared with), run by each reader within their own reach. `entity` and `shared`
-- (",hr,manager,") repeat the definition's type and roles so that lists and index upkeep
-- select in SQL; `indexed`: saved by an administrator, so its covering index is kept (other
-- people's reports are not indexed).
CREATE TABLE reports (
    id         INTEGER PRIMARY KEY,
    owner      INTEGER NOT NULL,
    name       TEXT NOT NULL,
    entity     TEXT NOT NULL,
    shared     TEXT NOT NULL DEFAULT '',
    def        TEXT NOT NULL,
    indexed    INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL
);
CREATE INDEX reports_owner ON reports (owner);
CREATE INDEX reports_entity ON reports (entity, indexed);
