-- Pairs of adjacent CJK characters as full-text terms.
--
-- A Chinese word searched as a phrase of single characters is estimated by PostgreSQL as if
-- its characters were independent: far too few matches, so a common pair of words is planned
-- as a fetch and re-check of every candidate (hundreds of ms at 1M rows). Each full-text
-- table's text now carries the pairs too (`search.rs`), so a two-character word is one term
-- whose frequency the planner knows. The text is made in Rust from the records: the store
-- rebuilds every full-text table at its next open while `format` is below its own
-- (`store/storage.rs`), and records the format it wrote.
CREATE TABLE search_format (format INTEGER NOT NULL);
INSERT INTO search_format (format) VALUES (1);
