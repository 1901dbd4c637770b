package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/sync/demo"
	"github.com/fieldsync/fieldsync/sync/synctest"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
	"github.com/fieldsync/fieldsync/models/democity"
	"github.com/fieldsync/fieldsync/server"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/fieldsync/fieldsync/storage/blob/miniotest"
	"github.com/fieldsync/fieldsync/storage/pgtest"
	"github.com/fieldsync/fieldsync/storage/storagetest"
	fsync "github.com/fieldsync/fieldsync/sync"
)

func TestMain(m *testing.M) {
	pgtest.AtExit(closeBrowser)
	pgtest.Main(m)
}

// chromiumPath is Debian's Chromium (package chromium); tests never download a browser.
const chromiumPath = "/usr/bin/chromium"

// browser is one headless Chromium per test binary, started on first use; each test gets its own
// browser context (cookies included) from it.
var browser struct {
	once   sync.Once
	ctx    context.Context
	cancel func()
	err    error
}

func closeBrowser() error {
	if browser.cancel != nil {
		browser.cancel()
	}
	return nil
}

// startBrowser runs Chromium headless with flags that work as root and offline, in a fresh
// profile directory.
func startBrowser(t testing.TB) context.Context {
	t.Helper()
	browser.once.Do(func() {
		if _, err := os.Stat(chromiumPath); err != nil {
			browser.err = fmt.Errorf("%s is missing: install Debian's Chromium with `apt-get install chromium` "+
				"(.ci/run does this on a clean machine)", chromiumPath)
			return
		}
		profile, err := os.MkdirTemp("", "fieldsync-chromium-")
		if err != nil {
			browser.err = err
			return
		}
		opts := []chromedp.ExecAllocatorOption{
			chromedp.ExecPath(chromiumPath),
			chromedp.Flag("headless", true),
			chromedp.Flag("no-sandbox", true),
			chromedp.Flag("disable-gpu", true),
			chromedp.Flag("disable-quic", true),
			chromedp.Flag("no-first-run", true),
			chromedp.Flag("no-default-browser-check", true),
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true),
			chromedp.Flag("disable-extensions", true),
			chromedp.Flag("disable-dev-shm-usage", true),
			chromedp.Flag("mute-audio", true),
			chromedp.Flag("lang", "zh-CN"),
			chromedp.UserDataDir(profile),
			chromedp.WindowSize(1280, 900),
		}
		alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancelCtx := chromedp.NewContext(alloc)
		if err := chromedp.Run(ctx); err != nil {
			cancelCtx()
			cancelAlloc()
			browser.err = fmt.Errorf("start %s: %w", chromiumPath, err)
			return
		}
		browser.ctx = ctx
		browser.cancel = func() {
			cancelCtx()
			cancelAlloc()
			os.RemoveAll(profile)
		}
	})
	if browser.err != nil {
		t.Fatal(browser.err)
	}
	return browser.ctx
}

// newTab is a page in a browser context of its own (its own cookies, like a separate browser
// profile), closed at the end of the test. (The context is made by hand: Chromium's headless mode
// opens a page in a new browser context only as a new window.)
func newTab(t testing.TB) context.Context {
	t.Helper()
	root := startBrowser(t)
	var bc cdp.BrowserContextID
	var id target.ID
	err := chromedp.Run(root, chromedp.ActionFunc(func(ctx context.Context) error {
		bctx := cdp.WithExecutor(ctx, chromedp.FromContext(ctx).Browser)
		var err error
		if bc, err = target.CreateBrowserContext().Do(bctx); err != nil {
			return err
		}
		id, err = target.CreateTarget("about:blank").WithBrowserContextID(bc).WithNewWindow(true).Do(bctx)
		return err
	}))
	if err != nil {
		t.Fatalf("new browser context: %v", err)
	}
	ctx, cancel := chromedp.NewContext(root, chromedp.WithTargetID(id))
	// A script error on any page fails the test; console errors are logged.
	var mu sync.Mutex
	var thrown []string
	chromedp.ListenTarget(ctx, func(ev any) {
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			mu.Lock()
			thrown = append(thrown, e.ExceptionDetails.Error())
			mu.Unlock()
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.APITypeError || e.Type == runtime.APITypeWarning {
				var args []string
				for _, a := range e.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				t.Logf("browser console %s: %s", e.Type, strings.Join(args, " "))
			}
		}
	})
	if err := chromedp.Run(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		mu.Lock()
		for _, e := range thrown {
			t.Errorf("script error in the page: %s", e)
		}
		mu.Unlock()
		cancel()
		_ = chromedp.Run(root, chromedp.ActionFunc(func(ctx context.Context) error {
			return target.DisposeBrowserContext(bc).Do(cdp.WithExecutor(ctx, chromedp.FromContext(ctx).Browser))
		}))
	})
	return ctx
}

// run runs browser actions with a deadline, failing the test with what was being done.
func run(t testing.TB, ctx context.Context, what string, actions ...chromedp.Action) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	// Pages of several browser contexts are open at once: the one being driven comes to the front,
	// or Chromium throttles it as hidden (no animation frames, so no map drawing).
	actions = append([]chromedp.Action{page.BringToFront()}, actions...)
	if err := chromedp.Run(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// site is a real fieldsync server (server.New) on 127.0.0.1 over a database holding the demo city
// and its weeks of field work, storing photos in a real MinIO.
type site struct {
	t       testing.TB
	url     string
	store   *storage.Store
	uploads *fsync.Uploads
}

// migrateWithDemoActivity builds the template database: the demo city as `make run` loads it (sites
// included) and its weeks of field work, pushed through the sync engine.
func migrateWithDemoActivity(ctx context.Context, dsn string) error {
	if err := storage.MigrateDSN(ctx, dsn); err != nil {
		return err
	}
	st, err := storage.Open(ctx, dsn, storage.Options{MaxOpenConns: 4})
	if err != nil {
		return err
	}
	defer st.Close()
	_, err = demo.Load(ctx, synctest.Engine(st), time.Now())
	return err
}

func newSite(t testing.TB) *site {
	t.Helper()
	st := storagetest.Open(t, pgtest.NewDatabase(t, migrateWithDemoActivity))
	photos := miniotest.NewStore(t)
	cfg := server.DefaultConfig()
	cfg.Password = storagetest.CheapPasswords
	cfg.Version = "test"
	cfg.ImageOrigins = []string{"http://" + miniotest.Shared(t).Endpoint}
	uploads := fsync.NewUploads(fsync.New(st, cfg.Sync), photos, cfg.Uploads, nil)
	app, err := server.New(server.Deps{Store: st, Blob: photos, Uploads: uploads, Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go app.Listener(ln)
	t.Cleanup(func() { app.ShutdownWithTimeout(5 * time.Second) })
	return &site{t: t, url: "http://" + ln.Addr().String(), store: st, uploads: uploads}
}

// apiClient is a phone-like client of the same server: bearer token, no cookies.
type apiClient struct {
	s     *site
	token string
}

// login logs a demo user in on the API as a phone would.
func (s *site) login(username string) *apiClient {
	s.t.Helper()
	body := map[string]any{"username": username, "password": demoPassword(username),
		"device": map[string]any{"id": "test-phone-" + username, "platform": "android"}}
	var out struct {
		Token string `json:"token"`
	}
	c := &apiClient{s: s}
	if status := c.do("POST", "/v1/auth/login", body, &out); status != 200 {
		s.t.Fatalf("login %s: status %d", username, status)
	}
	c.token = out.Token
	return c
}

func demoPassword(username string) string {
	for _, u := range democity.Users() {
		if u.Username == username {
			return u.Password
		}
	}
	return "no-such-user"
}

// do sends a JSON request and decodes a JSON answer into out (when not nil); it returns the status.
func (c *apiClient) do(method, path string, in, out any) int {
	c.s.t.Helper()
	var body io.Reader
	if b, ok := in.([]byte); ok {
		body = bytes.NewReader(b)
	} else if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			c.s.t.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.s.url+path, body)
	if err != nil {
		c.s.t.Fatal(err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.s.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if out != nil && res.StatusCode < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			c.s.t.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
	return res.StatusCode
}

// browserClient is a plain HTTP client with a cookie jar, for form posts a browser page would not
// make (no CSRF token).
func (s *site) browserClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// screenshots is where page screenshots go: $FIELDSYNC_SCREENSHOTS, else the test's temp directory.
func screenshots(t testing.TB) string {
	if dir := os.Getenv("FIELDSYNC_SCREENSHOTS"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	return t.TempDir()
}

// shoot saves a PNG of the viewport (or of the whole page when full) as name.png.
func shoot(t testing.TB, ctx context.Context, dir, name string, full bool) {
	t.Helper()
	var png []byte
	action := chromedp.CaptureScreenshot(&png)
	if full {
		action = chromedp.FullScreenshot(&png, 100) // quality 100: PNG
	}
	run(t, ctx, "screenshot "+name, action)
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// loginAs signs in through the console's form.
func loginAs(t testing.TB, ctx context.Context, base, username string) {
	t.Helper()
	run(t, ctx, "log in as "+username,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible("#username", chromedp.ByID),
		chromedp.SendKeys("#username", username, chromedp.ByID),
		chromedp.SendKeys("#password", demoPassword(username), chromedp.ByID),
		chromedp.Click("#login", chromedp.ByID),
		chromedp.WaitVisible("#who", chromedp.ByID),
	)
}

// text reads the text of the first node matching sel.
func text(t testing.TB, ctx context.Context, sel string) string {
	t.Helper()
	var s string
	run(t, ctx, "read "+sel, chromedp.Text(sel, &s, chromedp.ByQuery))
	return strings.TrimSpace(s)
}

// eval evaluates a script in the page (waiting for a promise it returns).
func eval(t testing.TB, ctx context.Context, js string, out any) {
	t.Helper()
	run(t, ctx, "evaluate "+js, chromedp.Evaluate(js, out, awaitPromise))
}

func awaitPromise(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }

var errTimeout = errors.New("timed out")

// waitFor polls a script until it returns true.
func waitFor(t testing.TB, ctx context.Context, js string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		var ok bool
		if err := chromedp.Run(ctx, chromedp.Evaluate(js, &ok)); err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			var state string
			_ = chromedp.Run(ctx, chromedp.Evaluate(`location.href + " · " + (document.querySelector('#map-status, main') || document.body).innerText.slice(0, 300)`, &state))
			t.Fatalf("waiting for %s: %v; the page: %s", js, errTimeout, state)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitMap waits for the map page to have drawn its visits (or to have failed, which fails the test).
func waitMap(t testing.TB, ctx context.Context, within time.Duration) {
	t.Helper()
	waitFor(t, ctx, `['true', 'error'].includes(document.getElementById('map').dataset.ready)`, within)
	var state string
	eval(t, ctx, `document.getElementById('map').dataset.ready + ': ' + document.getElementById('map-status').textContent`, &state)
	if !strings.HasPrefix(state, "true") {
		t.Fatalf("the map failed: %s", state)
	}
}
