-- Index columns of a table's key (`id`, `rowid`) in PostgreSQL's default order.
--
-- Every sort key and index column was told where empty values go (SQLite's place for them,
-- `db/dialect.rs`), the table's key too. But no such clause matches the primary key's own
-- index going down, so every list ordered by id sorted its whole table. Keys are never empty:
-- they are no longer told, and the indexes made before that are made again without it, so
-- that they serve the same orders.
DO $migration$
DECLARE
    ix record;
BEGIN
    FOR ix IN
        SELECT indexname, indexdef FROM pg_indexes
        WHERE schemaname = current_schema() AND indexdef ~ '\m(id|rowid) NULLS FIRST'
    LOOP
        EXECUTE format('DROP INDEX %I', ix.indexname);
        EXECUTE regexp_replace(ix.indexdef, '\m(id|rowid) NULLS FIRST', '\1', 'g');
    END LOOP;
END
$migration$;
