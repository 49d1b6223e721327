-- Pairs of adjacent CJK characters as full-text terms: PostgreSQL only (see
-- postgres/0024_search_pairs.sql). SQLite's FTS5 reads a Chinese word as a phrase of its
-- characters fast at any size, and its index stays as it is.
SELECT 1;
