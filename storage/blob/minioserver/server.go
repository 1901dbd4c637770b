// Package minioserver runs a real MinIO server process: the binary built into bin/minio (see
// Binary), started on a free 127.0.0.1 port with random root credentials and its data in a
// directory the caller chooses. Tests use it through storage/blob/miniotest; fieldctl bench uses
// it directly (it links no test code).
//
// A MinIO never outlives the process that started it: it runs in its own process group with a
// parent-death signal (Linux).
package minioserver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/fieldsync/fieldsync/storage/child"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Version is the MinIO release the tests run, as built by the command in BuildHint.
const Version = "v0.0.0-20260212201848-7aac2a2c5b7c"

// BuildHint says how to build the MinIO binary.
const BuildHint = "build it once (about 5 minutes) with `make bin/minio`, or run\n" +
	"  GOBIN=$PWD/bin go install github.com/minio/minio@" + Version + "\n" +
	"in the repository root, or point FIELDSYNC_MINIO_BIN at a minio binary"

const (
	readyTimeout = 60 * time.Second // how long Start waits for MinIO to answer
	portAttempts = 5                // starts tried with a fresh free port when the port was taken
)

// Server is a running (or stopped) MinIO.
type Server struct {
	Endpoint  string // 127.0.0.1:port
	AccessKey string
	SecretKey string
	// StartTime is how long the last start took, until MinIO answered an authenticated request.
	StartTime time.Duration

	bin  string
	dir  string // holds data/ and minio.log
	port int
	proc *proc
}

// Binary returns the MinIO binary to run: $FIELDSYNC_MINIO_BIN, else bin/minio in the module
// root (the nearest directory above the working directory holding go.mod).
func Binary() (string, error) {
	if p := os.Getenv("FIELDSYNC_MINIO_BIN"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("minioserver: FIELDSYNC_MINIO_BIN: %w; %s", err, BuildHint)
		}
		return p, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("minioserver: %w", err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			bin := filepath.Join(dir, "bin", "minio")
			if _, err := os.Stat(bin); err != nil {
				return "", fmt.Errorf("minioserver: no MinIO server binary at %s: %s", bin, BuildHint)
			}
			return bin, nil
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("minioserver: no go.mod above %s to find bin/minio in: %s", wd, BuildHint)
		}
	}
}

// Start starts a MinIO with its files under dir (created if needed) on a free port, and waits
// until it answers. The caller stops it with Stop.
func Start(dir string) (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o700); err != nil {
		return nil, fmt.Errorf("minioserver: %w", err)
	}
	s := &Server{AccessKey: "fs" + randomHex(8), SecretKey: randomHex(20), bin: bin, dir: dir}
	for attempt := 1; ; attempt++ {
		if s.port, err = freePort(); err != nil {
			return nil, err
		}
		s.Endpoint = "127.0.0.1:" + strconv.Itoa(s.port)
		err = s.run()
		if err == nil || !errors.Is(err, errPortTaken) || attempt == portAttempts {
			return s, err
		}
	}
}

// Running reports whether the server was started and not stopped since.
func (s *Server) Running() bool { return s.proc != nil }

// Stop kills MinIO (SIGKILL to its process group, like a crash: what it acknowledged is on disk)
// and waits for it to exit. Stopping a stopped server does nothing.
func (s *Server) Stop() error {
	if s.proc == nil {
		return nil
	}
	p := s.proc
	s.proc = nil
	return p.kill()
}

// Restart starts a stopped server again on the same port, data and credentials (stopping it
// first if it runs).
func (s *Server) Restart() error {
	if err := s.Stop(); err != nil {
		return err
	}
	return s.run()
}

// Dir returns the directory holding the server's data and log.
func (s *Server) Dir() string { return s.dir }

// Client returns a minio-go client for the server's root user.
func (s *Server) Client() (*minio.Client, error) {
	return minio.New(s.Endpoint, &minio.Options{
		Creds: credentials.NewStaticV4(s.AccessKey, s.SecretKey, ""), Region: "us-east-1", MaxRetries: 1,
	})
}

var errPortTaken = errors.New("minioserver: port taken")

// run launches minio on s.port and waits until it answers; on failure it is stopped.
func (s *Server) run() error {
	t0 := time.Now()
	logPath := filepath.Join(s.dir, "minio.log")
	logFile, err := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("minioserver: %w", err)
	}
	defer func() { _ = logFile.Close() }() // the child has its own descriptor
	logStart, _ := logFile.Seek(0, io.SeekEnd)
	cmd := exec.Command(s.bin, "server", "--quiet", "--address", s.Endpoint, filepath.Join(s.dir, "data"))
	cmd.Env = append(childEnv(),
		"MINIO_ROOT_USER="+s.AccessKey,
		"MINIO_ROOT_PASSWORD="+s.SecretKey,
		"MINIO_BROWSER=off",         // no console: no second port
		"MINIO_UPDATE=off",          // never look for updates
		"MINIO_CALLHOME_ENABLE=off", // never send anything anywhere
		"MINIO_SCANNER_SPEED=slowest",
	)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = procAttr()
	if s.proc, err = launch(cmd); err != nil {
		return err
	}
	if err := s.waitReady(); err != nil {
		_ = s.Stop()
		tail := logTail(logPath, logStart)
		if strings.Contains(tail, "address already in use") || strings.Contains(tail, "port is already in use") {
			return fmt.Errorf("%w: %d\n%s", errPortTaken, s.port, tail)
		}
		return fmt.Errorf("%w; log %s:\n%s", err, logPath, tail)
	}
	s.StartTime = time.Since(t0)
	return nil
}

// waitReady polls with an authenticated ListBuckets until MinIO answers it (the health endpoint
// says ready before the object layer is initialised), the process exits or readyTimeout passes.
// A refusal of our credentials means another server holds the port.
func (s *Server) waitReady() error {
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	p := s.proc
	go func() { // an exit ends the wait at once
		select {
		case <-p.Done():
			cancel()
		case <-ctx.Done():
		}
	}()
	c, err := s.Client()
	if err != nil {
		return fmt.Errorf("minioserver: %w", err)
	}
	for {
		_, err := c.ListBuckets(ctx)
		if err == nil {
			return nil
		}
		if code := minio.ToErrorResponse(err).StatusCode; code == http.StatusForbidden {
			return fmt.Errorf("%w: the server on %s refuses our credentials: %v", errPortTaken, s.Endpoint, err)
		}
		select {
		case <-p.Done():
			return fmt.Errorf("minioserver: minio exited during start: %v", p.Err())
		case <-ctx.Done():
			return fmt.Errorf("minioserver: minio not ready after %s: %v", readyTimeout, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// proc is a running minio process.
type proc struct{ *child.Proc }

// launch starts cmd so that it dies with this process (see child.Launch).
func launch(cmd *exec.Cmd) (*proc, error) {
	p, err := child.Launch(cmd)
	if err != nil {
		return nil, fmt.Errorf("minioserver: start minio: %w", err)
	}
	return &proc{p}, nil
}

// kill kills the process group and waits for the exit.
func (p *proc) kill() error {
	killGroup(p.Cmd.Process)
	select {
	case <-p.Done():
		return nil
	case <-time.After(30 * time.Second):
		return fmt.Errorf("minioserver: minio (pid %d) did not exit after SIGKILL", p.Cmd.Process.Pid)
	}
}

// childEnv is the test binary's environment without MINIO_* settings, which would change the
// server's behaviour.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MINIO_") {
			env = append(env, kv)
		}
	}
	return env
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("minioserver: find a free port: %w", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	return port, l.Close()
}

// logTail returns the last lines of the log written after offset.
func logTail(path string, offset int64) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(log unreadable: " + err.Error() + ")"
	}
	if offset <= int64(len(b)) {
		b = b[offset:]
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-30):], "\n")
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails
	return hex.EncodeToString(b)
}
