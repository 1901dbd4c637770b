package pgtest

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestRemoveStale(t *testing.T) {
	Cluster(t)
	stale, err := os.MkdirTemp(tempBase(), dirPrefix)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(stale, "fieldsync.lock"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	fresh, err := os.MkdirTemp(tempBase(), dirPrefix)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = os.RemoveAll(fresh) }()
	old := time.Now().Add(-time.Hour)
	for _, dir := range []string{stale, shared.dir} {
		if err := os.Chtimes(dir, old, old); err != nil {
			t.Fatal(err)
		}
	}

	removeStale()
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale directory not removed: %v", err)
		_ = os.RemoveAll(stale)
	}
	for _, dir := range []string{fresh, shared.dir} {
		if _, err := os.Stat(dir); err != nil {
			t.Errorf("%s removed: %v", dir, err)
		}
	}
}

func TestDatabaseName(t *testing.T) {
	long := "TestSomething/with a very long subtest name that goes on and on and on and on"
	for _, tc := range []struct {
		test string
		n    int64
		want string
	}{
		{"TestX", 1, "t1_testx"},
		{"TestA/b-c", 12, "t12_testa_b_c"},
		{long, 3, "t3_testsomething_with_a_very_long_subtest_name_that_goes_on_and"},
	} {
		got := databaseName(tc.test, tc.n)
		if got != tc.want || len(got) > 63 {
			t.Errorf("databaseName(%q, %d) = %q, want %q", tc.test, tc.n, got, tc.want)
		}
	}
}
