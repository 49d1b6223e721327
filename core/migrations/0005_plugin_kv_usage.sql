-- What each plugin's key-value store holds (keys, bytes of keys and values), kept by triggers
-- so that quotas are checked without scanning the store.
CREATE TABLE plugin_kv_usage (
    plugin  TEXT PRIMARY KEY,
    keys    INTEGER NOT NULL,
    bytes   INTEGER NOT NULL
);

INSERT INTO plugin_kv_usage (plugin, keys, bytes)
    SELECT plugin, count(*), total(length(key) + length(value)) FROM plugin_kv GROUP BY plugin;

CREATE TRIGGER plugin_kv_usage_insert AFTER INSERT ON plugin_kv BEGIN
    INSERT OR IGNORE INTO plugin_kv_usage (plugin, keys, bytes) VALUES (new.plugin, 0, 0);
    UPDATE plugin_kv_usage
       SET keys = keys + 1, bytes = bytes + length(new.key) + length(new.value)
     WHERE plugin = new.plugin;
END;

CREATE TRIGGER plugin_kv_usage_update AFTER UPDATE ON plugin_kv BEGIN
    UPDATE plugin_kv_usage
       SET bytes = bytes - length(old.key) - length(old.value) + length(new.key) + length(new.value)
     WHERE plugin = new.plugin;
END;

CREATE TRIGGER plugin_kv_usage_delete AFTER DELETE ON plugin_kv BEGIN
    UPDATE plugin_kv_usage
       SET keys = keys - 1, bytes = bytes - length(old.key) - length(old.value)
     WHERE plugin = old.plugin;
END;
