-- PostgreSQL's form of 0027: a plugin's key-value usage counts its keys in bytes (UTF-8), as
-- the quota check in Rust and the values do (`length()` of a text counts characters).
CREATE OR REPLACE FUNCTION plugin_kv_usage_keep() RETURNS trigger AS $fn$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO plugin_kv_usage (plugin, keys, bytes) VALUES (NEW.plugin, 0, 0)
            ON CONFLICT DO NOTHING;
        UPDATE plugin_kv_usage
           SET keys = keys + 1, bytes = bytes + octet_length(NEW.key) + length(NEW.value)
         WHERE plugin = NEW.plugin;
    ELSIF TG_OP = 'UPDATE' THEN
        UPDATE plugin_kv_usage
           SET bytes = bytes - octet_length(OLD.key) - length(OLD.value)
                     + octet_length(NEW.key) + length(NEW.value)
         WHERE plugin = NEW.plugin;
    ELSE
        UPDATE plugin_kv_usage
           SET keys = keys - 1, bytes = bytes - octet_length(OLD.key) - length(OLD.value)
         WHERE plugin = OLD.plugin;
    END IF;
    RETURN NULL;
END
$fn$ LANGUAGE plpgsql;

UPDATE plugin_kv_usage
   SET bytes = (SELECT COALESCE(sum(octet_length(key) + length(value)), 0) FROM plugin_kv
                 WHERE plugin_kv.plugin = plugin_kv_usage.plugin);
