package pgcluster

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestStalePidFile(t *testing.T) {
	dir := newDir(t)
	c := start(t, dir)
	stop(t, c)

	// A process that has exited leaves a pid nobody uses (for a while).
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	pidFile := filepath.Join(dir, "data", "postmaster.pid")
	content := fmt.Sprintf("%d\n%s\n1700000000\n5432\n\n127.0.0.1\n  1234  5678\nready   \n", dead.Process.Pid, c.dataDir)
	if err := os.WriteFile(pidFile, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	c = start(t, dir)
	if got := query(t, c, "SELECT 1::text"); got != "1" {
		t.Fatalf("SELECT 1 = %q", got)
	}
}

func TestSecondStartOnSameDirFails(t *testing.T) {
	dir := newDir(t)
	c := start(t, dir)
	if locked, err := Locked(dir); err != nil || !locked {
		t.Errorf("Locked while running = %v, %v", locked, err)
	}
	_, err := Start(context.Background(), Options{Dir: dir})
	if err == nil || !strings.Contains(err.Error(), "in use by another running process") {
		t.Fatalf("second Start on a running cluster: %v", err)
	}
	if got := query(t, c, "SELECT 1::text"); got != "1" {
		t.Fatalf("first cluster broken after the refused start: %q", got)
	}
}

// TestLeftoverPostgresIsReplaced simulates a server that died while its postgres kept running: the
// lock is released (as the kernel does for a dead process), and the next Start stops the leftover
// postgres and starts its own.
func TestLeftoverPostgresIsReplaced(t *testing.T) {
	dir := newDir(t)
	old := start(t, dir)
	execSQL(t, old, "CREATE TABLE survivor (id int)")
	_ = old.lock.Close()

	c := start(t, dir)
	select {
	case <-old.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("leftover postgres still running after the new Start")
	}
	if got := query(t, c, "SELECT to_regclass('survivor')::text"); got != "survivor" {
		t.Errorf("table from before = %q", got)
	}
}

// TestHelperServer is not a test: TestKilledServerTakesPostgresDown runs it in a child process
// that starts a cluster and waits to be killed.
func TestHelperServer(t *testing.T) {
	dir := os.Getenv("PGCLUSTER_TEST_HELPER_DIR")
	if dir == "" {
		return
	}
	c, err := Start(context.Background(), Options{Dir: dir, Settings: testSettings})
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(1)
	}
	fmt.Println("READY", c.proc.Cmd.Process.Pid)
	time.Sleep(time.Minute)
}

// TestKilledServerTakesPostgresDown kills (SIGKILL) a process running a cluster: the parent-death
// signal must shut postgres down, and the next Start must work.
func TestKilledServerTakesPostgresDown(t *testing.T) {
	dir := newDir(t)
	helper := exec.Command(os.Args[0], "-test.run=^TestHelperServer$")
	helper.Env = append(os.Environ(), "PGCLUSTER_TEST_HELPER_DIR="+dir)
	out, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	var pid int
	for sc := bufio.NewScanner(out); sc.Scan(); {
		if _, err := fmt.Sscanf(sc.Text(), "READY %d", &pid); err == nil {
			break
		}
		t.Log(sc.Text())
	}
	if pid == 0 {
		_ = helper.Process.Kill()
		t.Fatal("helper did not start a cluster")
	}
	_ = helper.Process.Kill()
	_ = helper.Wait()
	deadline := time.Now().Add(20 * time.Second)
	for alive(pid) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if alive(pid) {
		t.Fatalf("postgres %d survived its killed parent", pid)
	}
	if pids := processesIn(t, filepath.Join(dir, "data")); len(pids) > 0 {
		t.Errorf("processes left: %v", pids)
	}
	c := start(t, dir)
	if got := query(t, c, "SELECT 1::text"); got != "1" {
		t.Fatalf("SELECT 1 = %q", got)
	}
}
