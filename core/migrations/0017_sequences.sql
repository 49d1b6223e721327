-- Auto-number sequences: the last number given per field and scope (the pattern rendered
-- without its sequence, so a dated pattern counts each year or month from 1).
CREATE TABLE sequences (
    entity TEXT NOT NULL,
    field  TEXT NOT NULL,
    scope  TEXT NOT NULL,
    last   INTEGER NOT NULL,
    PRIMARY KEY (entity, field, scope)
) WITHOUT ROWID;
