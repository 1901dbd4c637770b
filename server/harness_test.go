package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/models/democity"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/fieldsync/fieldsync/storage/blob"
	"github.com/fieldsync/fieldsync/storage/pgtest"
	"github.com/fieldsync/fieldsync/storage/storagetest"
	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// harness is one server on its own database holding the demo city. Every exchange it makes is
// validated against openapi.yaml.
type harness struct {
	t     testing.TB
	app   *fiber.App
	store *storage.Store
	blob  blob.Store
	dsn   string
	ct    *contract
	reg   *prometheus.Registry // the metrics MetricsHandler serves
	addr  string               // where serve listens, once called
}

func testConfig() Config {
	cfg := DefaultConfig()
	cfg.Password = storagetest.CheapPasswords
	return cfg
}

func newHarness(t testing.TB, tweak ...func(*Config)) *harness {
	t.Helper()
	st, dsn := storagetest.NewDemoStore(t)
	return newHarnessOn(t, st, dsn, tweak...)
}

func newHarnessOn(t testing.TB, st *storage.Store, dsn string, tweak ...func(*Config)) *harness {
	t.Helper()
	local, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return newHarnessWith(t, st, dsn, local, tweak...)
}

// newHarnessWith builds a harness whose photos go to the blob store b (e.g. a real MinIO).
func newHarnessWith(t testing.TB, st *storage.Store, dsn string, b blob.Store, tweak ...func(*Config)) *harness {
	t.Helper()
	cfg := testConfig()
	for _, f := range tweak {
		f(&cfg)
	}
	reg := prometheus.NewRegistry()
	app, err := New(Deps{Store: st, Blob: b, Config: cfg, Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, app: app, store: st, blob: b, dsn: dsn, ct: loadContract(t), reg: reg}
}

// resp is a response with its body read.
type resp struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r resp) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("response is not a JSON object: %v: %s", err, r.Body)
	}
	return m
}

// problemType returns the slug of a problem+json response, failing when it is not one.
func (r resp) problemType(t testing.TB) string {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("status %d: content type %q, want application/problem+json: %s", r.Status, ct, r.Body)
	}
	typ, _ := r.json(t)["type"].(string)
	return strings.TrimPrefix(typ, ProblemBase)
}

// do sends one request; body may be nil, a []byte (sent as is) or a value (sent as JSON).
func (h *harness) do(method, path, token string, body any, headers ...string) resp {
	h.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case []byte:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			h.t.Fatal(err)
		}
	}
	req := httptest.NewRequest(method, path, bytes.NewReader(raw))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := h.app.Test(req, -1)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	checkReq := httptest.NewRequest(method, path, bytes.NewReader(raw))
	checkReq.Header = req.Header.Clone()
	h.ct.check(h.t, checkReq, raw, res, data)
	return resp{Status: res.StatusCode, Header: res.Header, Body: data}
}

// loginBody is a phone's login request.
func loginBody(username, password, deviceID string) map[string]any {
	return map[string]any{"username": username, "password": password,
		"device": map[string]any{"id": deviceID, "name": "test phone", "platform": "android", "app_version": "2.3.0"}}
}

// login logs a demo user in on deviceID and returns the token.
func (h *harness) login(username, deviceID string) string {
	h.t.Helper()
	r := h.do("POST", "/v1/auth/login", "", loginBody(username, demoPassword(username), deviceID))
	if r.Status != 200 {
		h.t.Fatalf("login %s: %d %s", username, r.Status, r.Body)
	}
	return r.json(h.t)["token"].(string)
}

// demoPassword looks up a demo login's password.
func demoPassword(username string) string {
	for _, u := range democity.Users() {
		if u.Username == username {
			return u.Password
		}
	}
	return "no-such-demo-user"
}

func expectStatus(t testing.TB, r resp, want int) {
	t.Helper()
	if r.Status != want {
		t.Fatalf("status %d, want %d: %s", r.Status, want, r.Body)
	}
}

// overTheWire serves the app on a real 127.0.0.1 listener and sends one POST as raw bytes:
// headers announcing contentLength, then body (which may be shorter: a phone's body may still be
// on the wire when the server refuses it). The answer is validated against the contract.
// app.Test cannot show what fasthttp does while reading a body, hence the real socket.
func (h *harness) overTheWire(path string, headers map[string]string, contentLength int, body []byte) resp {
	h.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		h.t.Fatal(err)
	}
	go h.app.Listener(ln)
	h.t.Cleanup(func() { h.app.Shutdown() })
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		h.t.Fatal(err)
	}
	defer conn.Close()
	var head strings.Builder
	fmt.Fprintf(&head, "POST %s HTTP/1.1\r\nHost: fieldsync\r\nContent-Type: application/json\r\nContent-Length: %d\r\n", path, contentLength)
	for k, v := range headers {
		fmt.Fprintf(&head, "%s: %s\r\n", k, v)
	}
	head.WriteString("\r\n")
	go func() { conn.Write(append([]byte(head.String()), body...)) }()
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		h.t.Fatal(err)
	}
	data, _ := io.ReadAll(res.Body)
	res.Body.Close()
	h.ct.check(h.t, httptest.NewRequest("POST", path, nil), nil, res, data)
	return resp{Status: res.StatusCode, Header: res.Header, Body: data}
}

// serve serves the app on a real 127.0.0.1 listener (once per harness) and returns its address;
// it is shut down at cleanup.
func (h *harness) serve() string {
	h.t.Helper()
	if h.addr != "" {
		return h.addr
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		h.t.Fatal(err)
	}
	go h.app.Listener(ln)
	h.t.Cleanup(func() { h.app.Shutdown() })
	h.addr = ln.Addr().String()
	return h.addr
}

// raw sends one request as raw bytes over its own connection to the served app and reads the
// answer, validated against the contract as a request of method to path.
func (h *harness) raw(method, path string, request []byte) resp {
	h.t.Helper()
	conn, err := net.Dial("tcp", h.serve())
	if err != nil {
		h.t.Fatal(err)
	}
	defer conn.Close()
	go conn.Write(request)
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	data, _ := io.ReadAll(res.Body)
	res.Body.Close()
	h.ct.check(h.t, httptest.NewRequest(method, path, nil), nil, res, data)
	return resp{Status: res.StatusCode, Header: res.Header, Body: data}
}
