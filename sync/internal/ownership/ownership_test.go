package ownership_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync/sync/internal/ownership"
)

// TestOnlyTheOwnerWrites checks every non-test file of the module: SQL that writes an owned table
// only in storage, storage's write primitives only in sync.
func TestOnlyTheOwnerWrites(t *testing.T) {
	pkgs, err := ownership.Load(".", ownership.Module+"/...")
	if err != nil {
		t.Fatal(err)
	}
	prims, err := ownership.Primitives(pkgs)
	if err != nil {
		t.Fatal(err)
	}
	// The list is computed from storage's source; the well-known writers must be on it, or the
	// computation has gone blind.
	for _, name := range []string{"SaveRecords", "AppendChanges", "Audit", "InsertConflicts", "ResolveConflict",
		"CreateRegion", "UpdateRegion", "MoveRegionSubtree", "CreateUser", "UpdateUser", "PruneChanges",
		"DeviceLogin", "CreateToken", "RevokeToken", "RevokeUserTokens", "RevokeDevice", "RevokeDeviceTokens"} {
		if _, ok := prims["(*"+ownership.StoragePkg+".Store)."+name]; !ok {
			t.Errorf("storage.%s is not found to be a write primitive", name)
		}
	}
	for _, name := range []string{"GetRecords", "LockRecords", "Changes", "ListAudit", "TouchDevice", "PruneTokens"} {
		if w, ok := prims["(*"+ownership.StoragePkg+".Store)."+name]; ok {
			t.Errorf("storage.%s is taken for a write primitive (%s)", name, w)
		}
	}
	t.Logf("%d write primitives in storage", len(prims))
	r := ownership.Check(pkgs, prims)
	for _, v := range r.Violations {
		t.Errorf("%s\n\twrite through the sync engine (package sync) instead", v)
	}
	if len(r.UsedCalls) != len(ownership.CallAllowed) {
		t.Errorf("of %d call exceptions only %v are still needed: remove the others from CallAllowed",
			len(ownership.CallAllowed), r.UsedCalls)
	}
	if len(r.UsedSQL) != len(ownership.SQLAllowed) {
		t.Errorf("of %d SQL exceptions only %v are still needed: remove the others from SQLAllowed",
			len(ownership.SQLAllowed), r.UsedSQL)
	}
}

// TestPlantedViolationIsFound checks the analysis on a handler that writes a record and its
// change-log row itself (testdata/server): both rules must report it.
func TestPlantedViolationIsFound(t *testing.T) {
	pkgs, err := ownership.Load(".", ownership.StoragePkg, "./testdata/server")
	if err != nil {
		t.Fatal(err)
	}
	prims, err := ownership.Primitives(pkgs)
	if err != nil {
		t.Fatal(err)
	}
	var sql, call bool
	for _, v := range ownership.Check(pkgs, prims).Violations {
		t.Log(v)
		if filepath.Base(v.Pos.Filename) != "server.go" || !strings.HasSuffix(v.Pkg, "/testdata/server") {
			t.Errorf("unexpected violation %s", v)
			continue
		}
		switch {
		case v.Rule == "sql" && v.What == "INSERT INTO change_log":
			sql = true
		case v.Rule == "call" && strings.HasPrefix(v.What, "storage.SaveRecords "):
			call = true
		default:
			t.Errorf("unexpected violation %s", v)
		}
	}
	if !sql || !call {
		t.Fatalf("the planted INSERT INTO change_log (found %t) and SaveRecords call (found %t) must both be reported", sql, call)
	}
}
