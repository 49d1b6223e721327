-- The latest run of each plugin job: where it is (the cursor its next step starts from), how
-- far it got, and how it ended. A run left `running` by a restart, or `failed`, continues from
-- its cursor when run again by the same plugin version.
CREATE TABLE plugin_jobs (
    plugin      TEXT NOT NULL,
    job         TEXT NOT NULL,
    version     TEXT NOT NULL,
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
