package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/models/phototest"
	"github.com/fieldsync/fieldsync/server"
	"github.com/fieldsync/fieldsync/storage/blob/miniotest"
	"github.com/fieldsync/fieldsync/storage/pgtest"
	"github.com/fieldsync/fieldsync/storage/storagetest"
	"github.com/fieldsync/fieldsync/sync/synctest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// fieldctl runs one command line against home and returns its standard output.
func fieldctl(t *testing.T, home, stdin string, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	args = append(args, "--home", home)
	if err := run(context.Background(), args, strings.NewReader(stdin), &out, &errb); err != nil {
		t.Fatalf("fieldctl %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return out.String()
}

// The commands as a person types them: log in, work offline, sync, read status and export.
func TestCommandsEndToEnd(t *testing.T) {
	st, _ := synctest.NewDemoStore(t)
	synctest.LoadSites(t, st)
	cfg := server.DefaultConfig()
	cfg.Password = storagetest.CheapPasswords
	app, err := server.New(server.Deps{Store: st, Blob: miniotest.NewStore(t), Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go app.Listener(ln)
	t.Cleanup(func() { app.ShutdownWithTimeout(5 * time.Second) })
	home := t.TempDir()

	fieldctl(t, home, "demo-inspector-2026\n", "login", "inspector", "--server", "http://"+ln.Addr().String(), "--password-stdin")
	if fi, err := os.Stat(filepath.Join(home, "token")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v %v", fi, err)
	}
	fieldctl(t, home, "", "sync", "--json")
	var sites []struct{ ID string }
	json.Unmarshal([]byte(fieldctl(t, home, "", "sites", "--kind", "dealer", "--limit", "1", "--json")), &sites)
	if len(sites) != 1 {
		t.Fatal("no dealer pulled")
	}
	answers := filepath.Join(t.TempDir(), "answers.json")
	os.WriteFile(answers, []byte(`{"products": [{"category": "fertiliser"}]}`), 0o600)
	visit := strings.TrimSpace(fieldctl(t, home, "", "visit", "new", "--kind", "agri_input_check", "--site", sites[0].ID,
		"--answers", answers, "--answer", "licence_checked=true", "--lat", "41.9", "--lon", "121.6"))
	jpg := filepath.Join(t.TempDir(), "shop.jpg")
	os.WriteFile(jpg, phototest.JPEG(t, phototest.Full()), 0o600)
	fieldctl(t, home, "", "photo", "add", visit, jpg, "--caption", "shelf")
	finding := strings.TrimSpace(fieldctl(t, home, "", "finding", "new", "--visit", visit, "--category", "labelling",
		"--severity", "ordinary", "--description", "过期化肥在售", "--unit", "经销部", "--deadline", "2026-12-01"))
	fieldctl(t, home, "", "visit", "submit", visit)

	var st1 struct {
		Queue         int `json:"queue"`
		PendingPhotos int `json:"pending_photos"`
	}
	json.Unmarshal([]byte(fieldctl(t, home, "", "status", "--json")), &st1)
	if st1.Queue != 4 || st1.PendingPhotos != 1 {
		t.Fatalf("status before sync: %+v", st1)
	}
	var rep struct {
		Applied, Queue int
		PhotosUploaded int `json:"photos_uploaded"`
	}
	json.Unmarshal([]byte(fieldctl(t, home, "", "sync", "--json")), &rep)
	if rep.Queue != 0 || rep.Applied != 4 || rep.PhotosUploaded != 1 {
		t.Fatalf("sync: %+v", rep)
	}
	if out := fieldctl(t, home, "", "findings", "--text", "过期化肥"); !strings.Contains(out, finding) {
		t.Fatalf("findings: %s", out)
	}
	var x struct {
		Records map[string][]struct{ ID string } `json:"records"`
	}
	json.Unmarshal([]byte(fieldctl(t, home, "", "export")), &x)
	if len(x.Records["visit"]) == 0 || len(x.Records["site"]) == 0 {
		t.Fatalf("export holds %d visits, %d sites", len(x.Records["visit"]), len(x.Records["site"]))
	}
	if out := fieldctl(t, home, "", "status"); !strings.Contains(out, "queue:           0 mutations") {
		t.Fatalf("status:\n%s", out)
	}
	fieldctl(t, home, "", "logout")
	if _, err := os.Stat(filepath.Join(home, "token")); !os.IsNotExist(err) {
		t.Fatalf("token kept after logout: %v", err)
	}
}
