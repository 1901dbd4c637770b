package faulttest

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/cmd/fieldctl/device"
	"github.com/fieldsync/fieldsync/cmd/fieldctl/fieldwork"
	"github.com/fieldsync/fieldsync/storage/blob/miniotest"
	"github.com/fieldsync/fieldsync/storage/storagetest"
)

// serveProc is `fieldsync serve` run as a child process, so it can die by SIGKILL.
type serveProc struct {
	t    *testing.T
	bin  string
	env  []string
	addr string
	cmd  *exec.Cmd
	log  *os.File
}

// buildFieldsync builds the server binary into a temp directory.
func buildFieldsync(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "fieldsync")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/fieldsync/fieldsync/cmd/fieldsync").CombinedOutput()
	if err != nil {
		t.Fatalf("go build ./cmd/fieldsync: %v\n%s", err, out)
	}
	return bin
}

func (s *serveProc) start() {
	s.t.Helper()
	s.cmd = exec.Command(s.bin, "serve")
	s.cmd.Env = append(os.Environ(), s.env...)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		res, err := http.Get("http://" + s.addr + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("fieldsync serve did not become ready; see %s", s.log.Name())
}

// kill sends SIGKILL and reaps the process.
func (s *serveProc) kill() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
		s.cmd = nil
	}
}

// `fieldsync serve` is SIGKILLed again and again while phones push and upload, and restarted on
// the same address: the phones finish their syncs, and nothing is lost or duplicated.
func TestFaultServerSIGKILL(t *testing.T) {
	const seed, phones, kills = 7, 3, 4
	st, dsn := storagetest.NewDemoStore(t)
	if _, err := st.LoadDemoSites(context.Background()); err != nil {
		t.Fatal(err)
	}
	mio := miniotest.Shared(t)
	miniotest.StoreOn(t, mio) // makes the test's bucket (and removes it at cleanup)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	logf, err := os.Create(filepath.Join(t.TempDir(), "serve.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	srv := &serveProc{t: t, bin: buildFieldsync(t), addr: addr, log: logf, env: []string{
		"FIELDSYNC_ADDR=" + addr, "FIELDSYNC_DATA_DIR=" + t.TempDir(), "FIELDSYNC_DATABASE_URL=" + dsn,
		"FIELDSYNC_S3_ENDPOINT=" + mio.Endpoint, "FIELDSYNC_S3_ACCESS_KEY=" + mio.AccessKey,
		"FIELDSYNC_S3_SECRET_KEY=" + mio.SecretKey, "FIELDSYNC_S3_BUCKET=" + miniotest.BucketName(t.Name()),
		"FIELDSYNC_LOG_LEVEL=warn", "FIELDSYNC_METRICS_ADDR=",
	}}
	srv.start()
	defer srv.kill()

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	ledger := &fieldwork.Ledger{}
	ps := newPhones(t, "http://"+addr, "inspector", phones, seed, ledger)
	hc := &http.Client{Timeout: 20 * time.Second}
	// Patient retries: a restart takes a moment, and the phones must ride it out.
	retry := device.RetryPolicy{Base: 20 * time.Millisecond, Max: 300 * time.Millisecond, Attempts: 12, Sleep: capSleep}

	var stop atomic.Bool
	var wg sync.WaitGroup
	errs := make([]error, len(ps))
	for i, p := range ps {
		wg.Go(func() {
			for !stop.Load() {
				for range 1 + p.w.Rnd.IntN(3) {
					if _, err := p.w.Visit(ctx); err != nil {
						errs[i] = err
						return
					}
				}
				_, _ = p.d.Sync(ctx, device.SyncOptions{HTTPClient: hc, Retry: retry, ChunkSize: 1 << 10})
			}
		})
	}
	for k := range kills {
		time.Sleep(time.Duration(300+100*k) * time.Millisecond)
		srv.kill()
		time.Sleep(100 * time.Millisecond)
		srv.start()
	}
	stop.Store(true)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("phone %d: %v", i, err)
		}
	}
	for i, p := range ps {
		if err := syncUntilDone(ctx, p.d, hc, device.SyncOptions{Retry: retry}, 10); err != nil {
			t.Fatalf("phone %d never finished: %v", i, err)
		}
	}
	for _, p := range ps {
		if err := syncUntilDone(ctx, p.d, hc, device.SyncOptions{Retry: retry}, 3); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("server killed %d times", kills)
	checkServerHoldsLedger(t, st, ps, ledger, "fault")
}
