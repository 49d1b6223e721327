-- Where a rebuild of PostgreSQL's full-text tables has got to: PostgreSQL only (see
-- postgres/0026_search_rebuild_progress.sql). SQLite's full-text tables are never rebuilt
-- at open.
SELECT 1;
