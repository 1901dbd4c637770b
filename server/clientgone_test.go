package server

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"
)

// waitingOnLock counts the backends of the test's database that wait for a lock.
func waitingOnLock(t *testing.T, db *sql.DB) int {
	t.Helper()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM pg_stat_activity
		WHERE datname = current_database() AND state = 'active' AND wait_event_type = 'Lock'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// pollUntil calls cond until it holds, failing after deadline.
func pollUntil(t *testing.T, deadline time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > deadline {
			t.Fatalf("%s: not within %s", what, deadline)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(start)
}

// TestClientGoneCancelsItsQuery starts reports whose query waits on a table lock held by the test
// (a query that would run for as long as the lock is held), drops the client's connection, and
// watches pg_stat_activity: the backend must stop waiting, because the server noticed the client
// leave and PostgreSQL was asked to cancel the query. Without either, the query waits for the lock
// until the test ends. The deadline is generous for a loaded machine; the time taken is logged.
func TestClientGoneCancelsItsQuery(t *testing.T) {
	e := newReportEnv(t)
	token := e.token("supervisor")
	addr := e.h.serve()
	db := e.h.store.SQL()
	cases := []struct{ name, table, target string }{
		{"JSON page", "records", "/v1/reports/visits?limit=5"},
		{"CSV export, opening its query", "records", "/v1/reports/visits?format=csv"},
		{"CSV export, filling a batch", "visit_location", "/v1/reports/visits?format=csv"},
		{"summary", "records", "/v1/reports/summary"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			lock, err := db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer lock.Rollback()
			if _, err := lock.ExecContext(ctx, `LOCK TABLE `+c.table+` IN ACCESS EXCLUSIVE MODE`); err != nil {
				t.Fatal(err)
			}
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: fieldsync\r\nAuthorization: Bearer %s\r\n\r\n", c.target, token)
			pollUntil(t, 30*time.Second, "the report's query waits on the lock", func() bool { return waitingOnLock(t, db) == 1 })
			conn.Close()
			took := pollUntil(t, 5*time.Second, "the query is cancelled after the client left", func() bool { return waitingOnLock(t, db) == 0 })
			t.Logf("the query stopped %s after the client left", took.Round(time.Millisecond))
		})
	}
	// The server still answers on new connections, and a client that stays gets its report.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /v1/reports/visits?limit=1 HTTP/1.1\r\nHost: fieldsync\r\nAuthorization: Bearer %s\r\n\r\n", token)
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("a report after the cancelled ones: %v %v", res, err)
	}
}
