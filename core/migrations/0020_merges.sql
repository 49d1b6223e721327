-- Records merged into another of their type: old links and ids lead to the record that
-- stayed, whose history includes the merged record's.
CREATE TABLE merges (
    entity    TEXT NOT NULL,
    merged_id INTEGER NOT NULL,
    kept_id   INTEGER NOT NULL,
    user_id   INTEGER,
    at        TEXT NOT NULL,
    PRIMARY KEY (entity, merged_id)
) WITHOUT ROWID;
CREATE INDEX merges_kept ON merges (entity, kept_id);
