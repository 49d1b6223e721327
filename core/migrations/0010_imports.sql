-- Imports of a spreadsheet into an entity type: the log (who, when, which file, the options of
-- the last pass, counts, the rows refused with why in both languages), the file itself until
-- its rows are written (or a week has passed), what each imported row did (so a whole import can be undone), and the
-- column mapping each person used last per file layout.
CREATE TABLE imports (
    id          INTEGER PRIMARY KEY,
    entity      TEXT NOT NULL,
    file_name   TEXT NOT NULL,
    file_kind   TEXT NOT NULL,
    layout      TEXT NOT NULL,
    created_by  INTEGER,
    created_at  TEXT NOT NULL,
    status      TEXT NOT NULL,
    options     TEXT NOT NULL DEFAULT '{}',
    total_rows  INTEGER NOT NULL,
    rows_done   INTEGER NOT NULL DEFAULT 0,
    inserted    INTEGER NOT NULL DEFAULT 0,
    updated     INTEGER NOT NULL DEFAULT 0,
    failed      INTEGER NOT NULL DEFAULT 0,
    errors      TEXT NOT NULL DEFAULT '[]',
    finished_at TEXT,
    undone_by   INTEGER,
    undone_at   TEXT,
    undo_report TEXT
);
CREATE INDEX imports_by_creator ON imports (created_by, id);

CREATE TABLE import_files (
    import_id INTEGER PRIMARY KEY REFERENCES imports (id) ON DELETE CASCADE,
    bytes     BLOB NOT NULL
);

CREATE TABLE import_rows (
    import_id INTEGER NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    seq       INTEGER NOT NULL,
    record_id INTEGER NOT NULL,
    action    TEXT NOT NULL,
    version   INTEGER NOT NULL,
    before    TEXT,
    PRIMARY KEY (import_id, seq)
);

CREATE TABLE import_layouts (
    user_id    INTEGER NOT NULL,
    entity     TEXT NOT NULL,
    layout     TEXT NOT NULL,
    options    TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (user_id, entity, layout)
);
