package miniotest

import (
	"regexp"
	"strings"
	"testing"

	"github.com/fieldsync/fieldsync/storage/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// s3Bucket is the S3 bucket naming rule (3-63 of [a-z0-9.-], alphanumeric at both ends).
var s3Bucket = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

func TestBucketName(t *testing.T) {
	seen := map[string]bool{}
	for _, name := range []string{"TestX", "TestMinIOContract/Large", "", "___", "Test/" + strings.Repeat("Ab_", 40), "日本"} {
		for range 2 {
			b := BucketName(name)
			if !s3Bucket.MatchString(b) || strings.Contains(b, "--") || seen[b] {
				t.Errorf("BucketName(%q) = %q: invalid or repeated", name, b)
			}
			seen[b] = true
		}
	}
}

// TestMissingBinary: without the binary the error says how to build it.
func TestMissingBinary(t *testing.T) {
	t.Setenv("FIELDSYNC_MINIO_BIN", "/nonexistent/minio")
	_, err := Start(t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "make bin/minio") || !strings.Contains(err.Error(), "go install github.com/minio/minio@"+Version) {
		t.Fatalf("Start without the binary = %v, want the build commands", err)
	}
}

// TestShared: one server per binary; a store on it works.
func TestShared(t *testing.T) {
	if Shared(t) != Shared(t) {
		t.Fatal("Shared started two servers")
	}
	st := NewStore(t)
	if err := st.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Logf("shared MinIO started in %s", Shared(t).StartTime)
}
