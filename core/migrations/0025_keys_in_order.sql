-- Index columns of a table's key in PostgreSQL's default order: PostgreSQL only (see
-- postgres/0025_keys_in_order.sql). SQLite has one order for empty values.
SELECT 1;
