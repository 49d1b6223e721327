-- Where the rebuild of the full-text tables (`store/storage.rs`) has got to: it commits every
-- page of records, so a host stopped during it (or a second host starting beside it) carries
-- on from there. `entity` is the type being rebuilt (types go in name order), `after_id` the
-- last record indexed (NULL: the type's table is to be made afresh first). Both NULL when no
-- rebuild has begun or the last one has finished.
ALTER TABLE search_format ADD COLUMN IF NOT EXISTS entity TEXT;
ALTER TABLE search_format ADD COLUMN IF NOT EXISTS after_id BIGINT;
