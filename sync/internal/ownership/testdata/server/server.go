// Package server is a planted violation for the ownership test: a handler that writes a record
// and its change-log row itself instead of calling the sync engine.
package server

import (
	"context"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
)

// createSite stores a site record and logs it, bypassing the owner.
func createSite(ctx context.Context, st *storage.Store, rec models.Record) error {
	if err := st.SaveRecords(ctx, []models.Record{rec}, true); err != nil {
		return err
	}
	_, err := st.SQL().ExecContext(ctx, `INSERT INTO change_log (seq, record_type, record_id, op, version)
		VALUES (nextval('change_seq'), 'site', $1, 'put', 1)`, rec.ID.String())
	return err
}
