-- Installed plugins, their kept versions, and each plugin's own key-value store.

CREATE TABLE plugins (
    id            TEXT PRIMARY KEY,
    version       TEXT NOT NULL,
    enabled       INTEGER NOT NULL DEFAULT 1,
    status        TEXT NOT NULL,
    error         TEXT,
    manifest      TEXT NOT NULL,
    sha256        TEXT NOT NULL,
    approved      TEXT NOT NULL,
    config        TEXT NOT NULL DEFAULT '{}',
    installed_at  TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

CREATE TABLE plugin_versions (
    plugin        TEXT NOT NULL,
    version       TEXT NOT NULL,
    sha256        TEXT NOT NULL,
    manifest      TEXT NOT NULL,
    installed_at  TEXT NOT NULL,
    PRIMARY KEY (plugin, version)
);

CREATE TABLE plugin_kv (
    plugin  TEXT NOT NULL,
    key     TEXT NOT NULL,
    value   BLOB NOT NULL,
    PRIMARY KEY (plugin, key)
);
