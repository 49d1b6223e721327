-- Several hosts on one database.
--
-- What hosts keep in memory, by kind, with a generation that triggers (made at every start,
-- `store/changes.rs`) bump on every write to the tables behind it: each host reads these rows
-- a few times a second and reloads what moved.
CREATE TABLE changes (
    topic      TEXT PRIMARY KEY,
    generation INTEGER NOT NULL DEFAULT 0
);
INSERT INTO changes (topic) VALUES
    ('schema'), ('roles'), ('workflows'), ('webhooks'), ('settings'), ('plugins'), ('people');

-- The hosts serving the database, each seen every few seconds. Work a host started names it,
-- so that another host takes over the work of one that is gone.
CREATE TABLE hosts (
    id         TEXT PRIMARY KEY,
    version    TEXT NOT NULL,
    started_at TEXT NOT NULL,
    seen_at    TEXT NOT NULL
);

-- Turns at work one host does at a time: a scheduled job's next run (taken by the first host
-- to find it due), or a lease its holder keeps renewing (sending mail).
CREATE TABLE turns (
    name  TEXT PRIMARY KEY,
    host  TEXT,
    until TEXT NOT NULL
);

-- Plugin components by hash: every host loads the version the database names from here.
CREATE TABLE plugin_components (
    sha256 TEXT PRIMARY KEY,
    bytes  BLOB NOT NULL
);

-- The host running a job's run, or an import's pass or undo.
ALTER TABLE plugin_jobs ADD COLUMN host TEXT;
ALTER TABLE imports ADD COLUMN host TEXT;

-- Failed logins per account and per client address, so that a lockout holds on every host.
CREATE TABLE login_failures (
    key          TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL,
    locked_until TEXT,
    last_failure TEXT NOT NULL
);
