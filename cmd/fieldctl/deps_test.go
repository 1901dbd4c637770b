package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestFieldctlLinksOnlyClientCode: the field client carries no test code and no server code; the
// benchmark runs the server as its own process.
func TestFieldctlLinksOnlyClientCode(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	forbidden := map[string]bool{"testing": true}
	for _, p := range []string{"server", "sync", "storage", "storage/pgtest", "storage/storagetest", "storage/blob/miniotest"} {
		forbidden["github.com/fieldsync/fieldsync/"+p] = true
	}
	for _, dep := range strings.Fields(string(out)) {
		if forbidden[dep] {
			t.Errorf("fieldctl links %s", dep)
		}
	}
}
