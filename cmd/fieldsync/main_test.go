package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/storage/pgtest"
	"github.com/fieldsync/fieldsync/storage/storagetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestConfigNamesTheBadSetting(t *testing.T) {
	cases := []struct {
		env  map[string]string
		args []string
		want string
	}{
		{map[string]string{"FIELDSYNC_ADDR": "8080"}, nil, "FIELDSYNC_ADDR"},
		{map[string]string{"FIELDSYNC_METRICS_ADDR": "9464"}, nil, "FIELDSYNC_METRICS_ADDR"},
		{map[string]string{"FIELDSYNC_LOG_LEVEL": "loud"}, nil, "FIELDSYNC_LOG_LEVEL"},
		{map[string]string{"FIELDSYNC_S3_USE_SSL": "maybe"}, nil, "FIELDSYNC_S3_USE_SSL"},
		{map[string]string{"FIELDSYNC_S3_ENDPOINT": "127.0.0.1:9000"}, nil, "FIELDSYNC_S3_ACCESS_KEY"},
		{map[string]string{"FIELDSYNC_S3_ENDPOINT": "http://127.0.0.1:9000"}, nil, "FIELDSYNC_S3_ENDPOINT"},
		{map[string]string{"FIELDSYNC_DATABASE_URL": "mysql://x"}, nil, "FIELDSYNC_DATABASE_URL"},
		{map[string]string{"FIELDSYNC_REQUEST_TIMEOUT": "soon"}, nil, "FIELDSYNC_REQUEST_TIMEOUT"},
		{nil, []string{"--body-limit", "12"}, "FIELDSYNC_BODY_LIMIT"},
		{nil, []string{"--retention", "1h"}, "FIELDSYNC_RETENTION"},
		{nil, []string{"--result-retention", "1h"}, "FIELDSYNC_RESULT_RETENTION"},
		{map[string]string{"FIELDSYNC_RESULT_RETENTION": "-5m"}, nil, "FIELDSYNC_RESULT_RETENTION"},
		{nil, []string{"--coverage-buffer-m", "0"}, "FIELDSYNC_COVERAGE_BUFFER_M"},
		{nil, []string{"--push-max-mutations", "0"}, "FIELDSYNC_PUSH_MAX_MUTATIONS"},
		{nil, []string{"--trusted-proxies", "10.0.0.1,nonsense"}, "FIELDSYNC_TRUSTED_PROXIES"},
		{map[string]string{"FIELDSYNC_ADDR": "8080"}, []string{"--addr", "127.0.0.1:0", "--log-level", "shout"}, "FIELDSYNC_LOG_LEVEL"},
	}
	for _, c := range cases {
		for k, v := range c.env {
			t.Setenv(k, v)
		}
		err := run(context.Background(), append([]string{"serve"}, c.args...), &bytes.Buffer{}, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("env %v args %v: error %v, want one naming %s", c.env, c.args, err, c.want)
		}
		for k := range c.env {
			os.Unsetenv(k)
		}
	}
	if err := run(context.Background(), []string{"frobnicate"}, &bytes.Buffer{}, &bytes.Buffer{}); err == nil {
		t.Error("unknown command accepted")
	}
}

func TestAdminCommands(t *testing.T) {
	st, dsn := storagetest.NewDemoStore(t)
	t.Setenv("FIELDSYNC_DATABASE_URL", dsn)
	ctx := context.Background()
	sh := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := run(ctx, args, &out, &errOut)
		return out.String() + errOut.String(), err
	}
	out, err := sh("user", "add", "--username", "ranger.new", "--password", "a-long-password", "--role", "township_officer",
		"--region", "211522105", "--kinds", "fire_patrol")
	if err != nil || !strings.Contains(out, "created user ranger.new") {
		t.Fatalf("user add: %v %s", err, out)
	}
	if _, err := sh("user", "add", "--username", "ranger.new", "--password", "a-long-password", "--role", "inspector"); err == nil {
		t.Fatal("duplicate user accepted")
	}
	if _, err := sh("user", "add", "--username", "x.y", "--password", "a-long-password", "--role", "inspector", "--region", "9999"); err == nil ||
		!strings.Contains(err.Error(), "--region") {
		t.Fatalf("unknown region: %v", err)
	}
	out, err = sh("user", "list")
	if err != nil || !strings.Contains(out, "ranger.new") || !strings.Contains(out, "211522105") || strings.Count(out, "\n") != 11 {
		t.Fatalf("user list: %v\n%s", err, out)
	}
	if _, err := sh("user", "disable", "--username", "ranger.new"); err != nil {
		t.Fatal(err)
	}
	out, _ = sh("user", "list")
	if strings.Contains(out, "ranger.new") {
		t.Fatal("disabled user listed without --all")
	}
	out, _ = sh("user", "list", "--all")
	if !strings.Contains(out, "ranger.new") {
		t.Fatal("disabled user missing from --all")
	}
	st.SQL().Exec(`INSERT INTO devices (id, user_id, name) SELECT 'phone-9', id, 'Mi 9' FROM users WHERE username = 'inspector'`)
	out, err = sh("device", "list", "--username", "inspector")
	if err != nil || !strings.Contains(out, "phone-9") {
		t.Fatalf("device list: %v %s", err, out)
	}
	if _, err := sh("device", "revoke", "--id", "phone-9"); err != nil {
		t.Fatal(err)
	}
	if _, err := sh("device", "revoke", "--id", "nope"); err == nil {
		t.Fatal("revoking an unknown device succeeded")
	}
	out, err = sh("demo", "load")
	if err != nil || !strings.Contains(out, "nothing changed") {
		t.Fatalf("demo load twice: %v %s", err, out)
	}
	var audits int
	st.SQL().QueryRow(`SELECT count(*) FROM audit_log WHERE device_id = 'cli'`).Scan(&audits)
	if audits != 3 {
		t.Fatalf("cli audit entries %d, want 3", audits)
	}
}

// syncBuffer is a bytes.Buffer safe for the server goroutine and the test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var (
	listenRE  = regexp.MustCompile(`listening on (http://\S+)`)
	metricsRE = regexp.MustCompile(`metrics on (http://\S+/metrics)`)
)

// serveOnce runs `fieldsync serve --demo` on dataDir until a login works and its metrics listener
// (not the API port) serves the request metrics, then stops it like Ctrl-C.
func serveOnce(t *testing.T, dataDir string, during func()) (stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--demo", "--addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0",
			"--data-dir", dataDir}, &out, &errOut)
	}()
	var base string
	for deadline := time.Now().Add(2 * time.Minute); base == "" && time.Now().Before(deadline); {
		select {
		case err := <-done:
			t.Fatalf("serve ended early: %v\n%s\n%s", err, out.String(), errOut.String())
		case <-time.After(50 * time.Millisecond):
		}
		if m := listenRE.FindStringSubmatch(out.String()); m != nil {
			base = m[1]
		}
	}
	if base == "" {
		t.Fatalf("serve never listened:\n%s\n%s", out.String(), errOut.String())
	}
	res, err := http.Get(base + "/healthz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", res, err)
	}
	res.Body.Close()
	body := `{"username":"inspector","password":"demo-inspector-2026","device":{"id":"cli-test"}}`
	res, err = http.Post(base+"/v1/auth/login", "application/json", strings.NewReader(body))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("demo login: %v %v", res, err)
	}
	var login map[string]any
	json.NewDecoder(res.Body).Decode(&login)
	res.Body.Close()
	if login["token"] == nil {
		t.Fatalf("login %v", login)
	}
	res, err = http.Get(base + "/metrics")
	if err != nil || res.StatusCode != 404 {
		t.Fatalf("/metrics on the API port: %v %v", res, err)
	}
	res.Body.Close()
	m := metricsRE.FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no metrics address printed:\n%s", out.String())
	}
	res, err = http.Get(m[1])
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("metrics: %v %v", res, err)
	}
	exposition, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(exposition), `fieldsync_http_requests_total{method="POST",route="/v1/auth/login",status="200"} 1`) {
		t.Fatalf("metrics lack the login:\n%s", exposition)
	}
	if during != nil {
		during()
	}
	cancel()
	select {
	case err := <-done:
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("serve did not stop")
	}
	return out.String(), errOut.String()
}

// postgresRunningIn reports whether any process's command line names dir (postgres -D dir/...).
func postgresRunningIn(dir string) bool {
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, f := range cmdlines {
		b, err := os.ReadFile(f)
		if err == nil && bytes.Contains(b, []byte("postgres")) && bytes.Contains(b, []byte(dir)) {
			return true
		}
	}
	return false
}

// TestServeEmbedded is `make run` twice: the first start initialises the private cluster and loads
// the demo, the second reuses both; a stop leaves no PostgreSQL process behind.
func TestServeEmbedded(t *testing.T) {
	// Not t.TempDir: its parent is mode 0700, and as root PostgreSQL runs as its own user.
	dataDir, err := os.MkdirTemp("", "fieldsync-serve-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dataDir) })
	if err := os.Chmod(dataDir, 0o755); err != nil {
		t.Fatal(err)
	}
	// An admin command run while the server owns the cluster uses that cluster.
	addUser := func() {
		var out, errOut bytes.Buffer
		err := run(context.Background(), []string{"user", "add", "--data-dir", dataDir, "--username", "late.comer",
			"--password", "added-while-serving", "--role", "inspector"}, &out, &errOut)
		if err != nil {
			t.Fatalf("user add while serving: %v %s", err, errOut.String())
		}
	}
	out, logs := serveOnce(t, dataDir, addUser)
	if !strings.Contains(out, "demo-inspector-2026") || !strings.Contains(out, "230 projects") ||
		!strings.Contains(out, "300 visits") || !strings.Contains(logs, "demo city loaded") ||
		!strings.Contains(logs, "initialising new cluster") {
		t.Fatalf("first start did not load and print the demo:\n%s", out)
	}
	if postgresRunningIn(dataDir) {
		t.Fatal("PostgreSQL still running after stop")
	}
	out, logs = serveOnce(t, dataDir, nil)
	if !strings.Contains(out, "230 projects, 60 patrol areas") || !strings.Contains(out, "300 visits") {
		t.Fatalf("second start did not print the demo counts:\n%s", out)
	}
	if strings.Contains(logs, "demo city loaded") || strings.Contains(logs, "initdb") || strings.Contains(logs, "initialis") {
		t.Fatalf("second start re-initialised:\n%s", logs)
	}
	if postgresRunningIn(dataDir) {
		t.Fatal("PostgreSQL still running after second stop")
	}
	// With no server running, the admin command starts the cluster itself and stops it again.
	var listing bytes.Buffer
	if err := run(context.Background(), []string{"user", "list", "--data-dir", dataDir}, &listing, &bytes.Buffer{}); err != nil ||
		!strings.Contains(listing.String(), "late.comer") {
		t.Fatalf("user list: %v\n%s", err, listing.String())
	}
	if postgresRunningIn(dataDir) {
		t.Fatal("PostgreSQL still running after an admin command")
	}
}
