-- A plugin's key-value usage counts its keys in bytes (UTF-8), as the quota check in Rust and
-- the values do: `length()` of a text counts characters, so a key of Chinese characters took
-- a third of its size from the quota.
DROP TRIGGER plugin_kv_usage_insert;
DROP TRIGGER plugin_kv_usage_update;
DROP TRIGGER plugin_kv_usage_delete;

CREATE TRIGGER plugin_kv_usage_insert AFTER INSERT ON plugin_kv BEGIN
    INSERT OR IGNORE INTO plugin_kv_usage (plugin, keys, bytes) VALUES (new.plugin, 0, 0);
    UPDATE plugin_kv_usage
       SET keys = keys + 1,
           bytes = bytes + length(CAST(new.key AS BLOB)) + length(new.value)
     WHERE plugin = new.plugin;
END;

CREATE TRIGGER plugin_kv_usage_update AFTER UPDATE ON plugin_kv BEGIN
    UPDATE plugin_kv_usage
       SET bytes = bytes - length(CAST(old.key AS BLOB)) - length(old.value)
                 + length(CAST(new.key AS BLOB)) + length(new.value)
     WHERE plugin = new.plugin;
END;

CREATE TRIGGER plugin_kv_usage_delete AFTER DELETE ON plugin_kv BEGIN
    UPDATE plugin_kv_usage
       SET keys = keys - 1,
           bytes = bytes - length(CAST(old.key AS BLOB)) - length(old.value)
     WHERE plugin = old.plugin;
END;

UPDATE plugin_kv_usage
   SET bytes = (SELECT total(length(CAST(key AS BLOB)) + length(value)) FROM plugin_kv
                 WHERE plugin_kv.plugin = plugin_kv_usage.plugin);
