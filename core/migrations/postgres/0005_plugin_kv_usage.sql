-- PostgreSQL's form of 0005: what each plugin's key-value store holds (keys, bytes of keys and
-- values), kept by a trigger so that quotas are checked without scanning the store.
CREATE TABLE plugin_kv_usage (
    plugin  TEXT COLLATE "C" PRIMARY KEY,
    keys    BIGINT NOT NULL,
    bytes   BIGINT NOT NULL
);

INSERT INTO plugin_kv_usage (plugin, keys, bytes)
    SELECT plugin, count(*), COALESCE(sum(length(key) + length(value)), 0)
    FROM plugin_kv GROUP BY plugin;

CREATE FUNCTION plugin_kv_usage_keep() RETURNS trigger AS $fn$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO plugin_kv_usage (plugin, keys, bytes) VALUES (NEW.plugin, 0, 0)
            ON CONFLICT DO NOTHING;
        UPDATE plugin_kv_usage
           SET keys = keys + 1, bytes = bytes + length(NEW.key) + length(NEW.value)
         WHERE plugin = NEW.plugin;
    ELSIF TG_OP = 'UPDATE' THEN
        UPDATE plugin_kv_usage
           SET bytes = bytes - length(OLD.key) - length(OLD.value)
                     + length(NEW.key) + length(NEW.value)
         WHERE plugin = NEW.plugin;
    ELSE
        UPDATE plugin_kv_usage
           SET keys = keys - 1, bytes = bytes - length(OLD.key) - length(OLD.value)
         WHERE plugin = OLD.plugin;
    END IF;
    RETURN NULL;
END
$fn$ LANGUAGE plpgsql;

CREATE TRIGGER plugin_kv_usage_keep AFTER INSERT OR UPDATE OR DELETE ON plugin_kv
    FOR EACH ROW EXECUTE FUNCTION plugin_kv_usage_keep();
