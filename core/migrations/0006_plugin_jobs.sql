-- The latest run of each plugin job: where it is (the cursor its next step starts from), how
-- far it got, and how it ended. A run still `running` after a restart continues from its cursor.
CREATE TABLE plugin_jobs (
    plugin      TEXT NOT NULL,
    job         TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('running', 'finished', 'failed')),
    cursor      TEXT,
    done        INTEGER NOT NULL DEFAULT 0,
    total       INTEGER,
    steps       INTEGER NOT NULL DEFAULT 0,
    started_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    error       TEXT,
    PRIMARY KEY (plugin, job)
);
