package blob_test

import (
	"testing"

	"github.com/fieldsync/fieldsync/storage/blob"
	"github.com/fieldsync/fieldsync/storage/blob/blobtest"
	"github.com/fieldsync/fieldsync/storage/blob/miniotest"
	"github.com/fieldsync/fieldsync/storage/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestLocalContract(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store {
		st, err := blob.NewLocal(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return st
	})
}

func TestMinIOContract(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store { return miniotest.NewStore(t) })
}
