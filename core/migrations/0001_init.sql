-- Qingguan core schema, version 1.
-- Record tables (r_<entity>) and their full-text tables (fts_<entity>) are created at run time
-- from the schema registry; this file holds the fixed tables.

-- Base and custom entity type definitions, with the overlay columns an administrator edits.
-- Re-applying a base definition only touches origin/def/retired/position.
CREATE TABLE schema_entities (
    name      TEXT PRIMARY KEY,
    origin    TEXT NOT NULL,
    def       TEXT NOT NULL,
    retired   INTEGER NOT NULL DEFAULT 0,
    position  INTEGER NOT NULL,
    label_en  TEXT,
    label_zh  TEXT,
    layout    TEXT
);

-- Every field that ever got a column, with its overlay columns.
CREATE TABLE schema_fields (
    entity    TEXT NOT NULL,
    name      TEXT NOT NULL,
    origin    TEXT NOT NULL,
    def       TEXT NOT NULL,
    retired   INTEGER NOT NULL DEFAULT 0,
    position  INTEGER NOT NULL,
    hidden    INTEGER NOT NULL DEFAULT 0,
    label_en  TEXT,
    label_zh  TEXT,
    help      TEXT,
    required  INTEGER,
    PRIMARY KEY (entity, name)
);

CREATE TABLE roles (
    name TEXT PRIMARY KEY,
    def  TEXT NOT NULL
);

CREATE TABLE credentials (
    user_id        INTEGER PRIMARY KEY,
    password_hash  TEXT NOT NULL,
    changed_at     TEXT NOT NULL
);

CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,
    user_id     INTEGER NOT NULL,
    csrf        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE history (
    id         INTEGER PRIMARY KEY,
    entity     TEXT NOT NULL,
    record_id  INTEGER NOT NULL,
    version    INTEGER NOT NULL,
    action     TEXT NOT NULL,
    user_id    INTEGER,
    at         TEXT NOT NULL,
    changes    TEXT NOT NULL
);
CREATE INDEX history_record ON history (entity, record_id, id);

CREATE TABLE settings (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
