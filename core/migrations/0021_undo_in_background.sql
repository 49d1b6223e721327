-- An undo goes through an import's records in the background (status 'undoing'); the status
-- it started from is kept, so that an undo the server stopped part-way can be run again.
ALTER TABLE imports ADD COLUMN undo_from TEXT;
