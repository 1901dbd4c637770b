package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/storage/blob/miniotest"
	"github.com/fieldsync/fieldsync/storage/pgtest"
	"github.com/fieldsync/fieldsync/storage/storagetest"
)

// BenchmarkUploadServerRSS: the server's peak resident memory while 32 phones upload 8 MB photos
// at once (1 MiB checksummed PATCHes, distinct files). The server runs as its own process (the
// real `fieldsync serve`, built from ./cmd/fieldsync) on a test database holding the demo users,
// with its photos in a real MinIO, so the figure is the server's alone, read from VmHWM in
// /proc/<pid>/status. The thumbnail worker runs in it as in production (each finished photo
// wakes it). Target: ≤ 200 MB.
//
//	go test -run '^$' -bench UploadServerRSS -benchtime 2x ./server/
func BenchmarkUploadServerRSS(b *testing.B) {
	const phones = 32
	srv := miniotest.Shared(b)
	store := miniotest.StoreOn(b, srv) // the bucket, removed after the benchmark
	dsn := pgtest.NewDatabase(b, storagetest.MigrateWithDemo)
	bin := filepath.Join(b.TempDir(), "fieldsync")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/fieldsync").CombinedOutput(); err != nil {
		b.Fatalf("go build ./cmd/fieldsync: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "FIELDSYNC_ADDR=127.0.0.1:0", "FIELDSYNC_DATABASE_URL="+dsn,
		"FIELDSYNC_DATA_DIR="+b.TempDir(), "FIELDSYNC_DEMO=false", "FIELDSYNC_LOG_LEVEL=warn", "FIELDSYNC_METRICS_ADDR=",
		"FIELDSYNC_S3_ENDPOINT="+srv.Endpoint, "FIELDSYNC_S3_ACCESS_KEY="+srv.AccessKey,
		"FIELDSYNC_S3_SECRET_KEY="+srv.SecretKey, "FIELDSYNC_S3_BUCKET="+store.Bucket())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(time.Minute):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	base := rssServerURL(b, stdout, &stderr)
	client := newTusClient(base, rssLogin(b, base))
	photos := newBenchPhotos(b)
	ctx := context.Background()
	// Warm up with one upload, then measure from the peak after start and one upload.
	if err := client.upload(ctx, photos.photo()); err != nil {
		b.Fatal(err)
	}
	idle := procStatusKB(b, cmd.Process.Pid, "VmHWM")
	b.ResetTimer()
	for b.Loop() {
		files := make([]*benchPhoto, phones)
		for i := range files {
			files[i] = photos.photo()
		}
		if err := runConcurrently(0, phones, func(i int) error { return client.upload(ctx, files[i]) }); err != nil {
			b.Fatalf("%v\nserver log: %s", err, stderr.Bytes())
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(procStatusKB(b, cmd.Process.Pid, "VmHWM"))/1024, "server-peak-RSS-MB")
	b.ReportMetric(float64(idle)/1024, "server-peak-RSS-before-MB")
	b.ReportMetric(float64(procStatusKB(b, cmd.Process.Pid, "VmRSS"))/1024, "server-RSS-after-MB")
}

var rssListenRE = regexp.MustCompile(`listening on (http://\S+)`)

// rssServerURL waits for the server's "listening on" line.
func rssServerURL(b *testing.B, stdout interface{ Read([]byte) (int, error) }, stderr *bytes.Buffer) string {
	b.Helper()
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := rssListenRE.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
	}()
	select {
	case u := <-found:
		return strings.Replace(u, "localhost", "127.0.0.1", 1)
	case <-time.After(2 * time.Minute):
		b.Fatalf("fieldsync serve did not start: %s", stderr.Bytes())
	}
	return ""
}

// rssLogin logs the demo inspector in over HTTP and returns the token.
func rssLogin(b *testing.B, base string) string {
	b.Helper()
	body, _ := json.Marshal(loginBody("inspector", demoPassword("inspector"), "rss-phone"))
	res, err := http.Post(base+"/v1/auth/login", "application/json", bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	var out struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != 200 {
		b.Fatalf("login: %d %v", res.StatusCode, err)
	}
	return out.Token
}

// procStatusKB reads a "kB" field (VmHWM, VmRSS) of a process's /proc status.
func procStatusKB(b *testing.B, pid int, field string) int64 {
	b.Helper()
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		b.Fatalf("server memory: %v (Linux only)", err)
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb
		}
	}
	b.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}
