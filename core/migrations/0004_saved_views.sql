-- Saved list views of the web UI, per user and entity type.
CREATE TABLE saved_views (
    id       INTEGER PRIMARY KEY,
    user_id  INTEGER NOT NULL,
    entity   TEXT NOT NULL,
    name     TEXT NOT NULL,
    query    TEXT NOT NULL,
    UNIQUE (user_id, entity, name)
);
