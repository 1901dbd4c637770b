-- +goose NO TRANSACTION
-- +goose Up
-- The janitor prunes stored push results older than the result retention window in small batches
-- (storage.PruneResults); this index finds them without scanning the table. It is built
-- concurrently so pushes, which insert into sync_mutations, are not blocked while it is built.
CREATE INDEX CONCURRENTLY IF NOT EXISTS sync_mutations_applied_idx ON sync_mutations (applied_at);

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS sync_mutations_applied_idx;
