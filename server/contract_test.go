package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/server/console"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/gofiber/fiber/v2"
)

// contract validates exchanges against openapi.yaml (the embedded fieldsync.OpenAPI). It is built
// once per test binary by loadContract and is safe for concurrent use.
//
// The library is kin-openapi (already a dependency): v0.153.0's openapi3filter validates
// OpenAPI 3.1 documents with a JSON Schema 2020-12 validator (type arrays such as
// [string, "null"], const, prefixItems, oneOf with {type: null}; TestContractRejectsDrift pins
// each), and enforces documented statuses (IncludeResponseStatus), response content types and
// required response headers. Its gaps are closed here: "uuid" is not a format it checks by
// default (a document-scoped validator is added); it stops at the first bad header (headers and
// body are validated in two passes); it does not notice a body on a response documented without
// one; and its 2020-12 error paths repeat themselves (describeError rebuilds them).
type contract struct {
	doc    *openapi3.T
	router routers.Router
	opts   *openapi3filter.Options
	// unmatched stands for every path and method the spec does not list: the server answers
	// them with components.responses.NotFound, and with nothing else.
	unmatched *routers.Route
}

var (
	contractOnce sync.Once
	contractVal  *contract
	contractErr  error
)

// loadContract returns the contract, parsing and checking openapi.yaml on first use.
func loadContract(t testing.TB) *contract {
	t.Helper()
	contractOnce.Do(func() { contractVal, contractErr = newContract(fieldsync.OpenAPI) })
	if contractErr != nil {
		t.Fatalf("openapi.yaml: %v", contractErr)
	}
	return contractVal
}

// uuidPattern is the canonical (lowercase, hyphenated) form the server writes.
const uuidPattern = `^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`

func newContract(spec []byte) (*contract, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(spec)
	if err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		return nil, fmt.Errorf("openapi %q: the contract is written in OpenAPI 3.1", doc.OpenAPI)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("invalid document: %w", err)
	}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("router: %w", err)
	}
	opts := &openapi3filter.Options{
		IncludeResponseStatus: true, // an undocumented status is an error, not a pass
		MultiError:            true, // report every mismatch of a body, not only the first
		SchemaValidationOptions: []openapi3.SchemaValidationOption{
			openapi3.WithStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(uuidPattern)),
		},
	}
	notFound := doc.Components.Responses["NotFound"]
	if notFound == nil {
		return nil, errors.New("components.responses.NotFound is missing")
	}
	unmatched := &routers.Route{Spec: doc, Path: "(not in openapi.yaml)",
		Operation: &openapi3.Operation{Responses: openapi3.NewResponses(openapi3.WithStatus(http.StatusNotFound, notFound))}}
	return &contract{doc: doc, router: router, opts: opts, unmatched: unmatched}, nil
}

// check validates one exchange: the route (method and path) must be in the spec, the status must
// be documented for it, and the response's headers, content type and body must match what the
// spec says for that status. A path or method the spec does not list passes only when answered
// with the documented 404 not-found problem (components.responses.NotFound). Request bodies are
// not validated, as tests send invalid input on purpose; reqBody only makes the failure message
// easier to read. It reports every mismatch with t.Errorf and carries on.
func (ct *contract) check(t testing.TB, req *http.Request, reqBody []byte, resp *http.Response, respBody []byte) {
	t.Helper()
	if err := ct.verify(req, resp, respBody); err != nil {
		msg := fmt.Sprintf("contract: %v", err)
		if len(reqBody) > 0 {
			msg += "\nrequest body: " + excerpt(reqBody, 512)
		}
		msg += "\nresponse body: " + excerpt(respBody, 2048)
		t.Errorf("%s", msg)
	}
}

// verify is check's core: it returns every mismatch of the exchange as one error, or nil.
func (ct *contract) verify(req *http.Request, resp *http.Response, respBody []byte) error {
	exchange := fmt.Sprintf("%s %s → %d", req.Method, req.URL.Path, resp.StatusCode)
	lookup := req
	route, params, err := ct.router.FindRoute(lookup)
	if err != nil && req.Method == http.MethodHead {
		// Fiber answers HEAD on every GET route, which the spec lists as GET; a HEAD of its own
		// (tus) is documented as HEAD.
		lookup = req.Clone(req.Context())
		lookup.Method = http.MethodGet
		route, params, err = ct.router.FindRoute(lookup)
	}
	var where string
	switch {
	case err == nil:
		where = fmt.Sprintf("%s %s (%s)", lookup.Method, route.Path, exchange)
	case resp.StatusCode == http.StatusNotFound:
		// A path or method the spec does not list: the only answer allowed is the documented 404.
		r := *ct.unmatched
		r.Method = lookup.Method
		route, params = &r, nil
		where = fmt.Sprintf("%s (%s %s is not in openapi.yaml, so it must be the NotFound answer)", exchange, lookup.Method, req.URL.Path)
	default:
		return fmt.Errorf("%s: %s %s is not in openapi.yaml (%v)", exchange, lookup.Method, req.URL.Path, err)
	}
	documented := route.Operation.Responses.Status(resp.StatusCode)
	if documented == nil || documented.Value == nil {
		return fmt.Errorf("%s: status %d is not documented; openapi.yaml lists %s", where, resp.StatusCode,
			strings.Join(documentedStatuses(route.Operation), ", "))
	}
	var problems []string
	if len(documented.Value.Content) == 0 && len(bytes.TrimSpace(respBody)) > 0 {
		problems = append(problems, "the response has a body but openapi.yaml documents none for this status")
	}
	// kin-openapi stops at the first bad header, so headers and body are validated in two passes
	// (the second against a copy of the response without headers) to report both.
	headersOnly := *ct.opts
	headersOnly.ExcludeResponseBody = true
	bodyOnly := *documented.Value
	bodyOnly.Headers = nil
	bodyRoute := *route
	bodyRoute.Operation = &openapi3.Operation{Responses: openapi3.NewResponses(
		openapi3.WithStatus(resp.StatusCode, &openapi3.ResponseRef{Value: &bodyOnly}))}
	for _, pass := range []struct {
		route *routers.Route
		opts  *openapi3filter.Options
	}{{route, &headersOnly}, {&bodyRoute, ct.opts}} {
		in := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: &openapi3filter.RequestValidationInput{
				Request: req, PathParams: params, Route: pass.route, Options: pass.opts,
			},
			Status:  resp.StatusCode,
			Header:  resp.Header,
			Body:    io.NopCloser(bytes.NewReader(respBody)),
			Options: pass.opts,
		}
		if err := openapi3filter.ValidateResponse(req.Context(), in); err != nil {
			problems = append(problems, describeError(err)...)
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%s:\n  - %s", where, strings.Join(dedupe(problems), "\n  - "))
}

func documentedStatuses(op *openapi3.Operation) []string {
	var out []string
	for code := range op.Responses.Map() {
		out = append(out, code)
	}
	sort.Strings(out)
	return out
}

// garbledPrefix is the "error at …" kin-openapi puts before the messages of its JSON Schema
// 2020-12 validator, with a path that repeats itself; the path is rebuilt from JSONPointer.
var garbledPrefix = regexp.MustCompile(`^(error at "[^"]*": )?(at '[^']*': )?`)

var headerReason = regexp.MustCompile(`^response header "([^"]+)"`)

// describeError flattens kin-openapi's nested errors into one line per mismatch, each naming
// what is wrong: a header, or the JSON pointer of the offending value of the body.
func describeError(err error) []string { return describe(err, "body") }

func describe(err error, subject string) []string {
	var re *openapi3filter.ResponseError
	var se *openapi3.SchemaError
	var me openapi3.MultiError
	switch { // outermost first: a ResponseError names the header its SchemaErrors are about
	case errors.As(err, &re):
		if re.Err == nil {
			return []string{re.Reason}
		}
		if m := headerReason.FindStringSubmatch(re.Reason); m != nil {
			subject = "header " + m[1]
		}
		if isSchemaError(re.Err) {
			return describe(re.Err, subject)
		}
		return []string{re.Reason + ": " + re.Err.Error()}
	case errors.As(err, &me):
		var out []string
		for _, e := range me {
			out = append(out, describe(e, subject)...)
		}
		return out
	case errors.As(err, &se):
		if se.Origin != nil && isSchemaError(se.Origin) {
			return describe(se.Origin, subject)
		}
		reason := garbledPrefix.ReplaceAllString(se.Reason, "")
		if reason == "" {
			reason = "does not match " + se.SchemaField
		}
		if subject != "body" {
			return []string{subject + ": " + reason}
		}
		return []string{"body at /" + strings.Join(se.JSONPointer(), "/") + ": " + reason}
	}
	return []string{err.Error()}
}

func isSchemaError(err error) bool {
	var se *openapi3.SchemaError
	var me openapi3.MultiError
	return errors.As(err, &se) || errors.As(err, &me)
}

func dedupe(lines []string) []string {
	var out []string
	for _, l := range lines {
		if !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out
}

func excerpt(b []byte, n int) string {
	if len(b) == 0 {
		return "(empty)"
	}
	if len(b) > n {
		return string(b[:n]) + "… (" + strconv.Itoa(len(b)) + " bytes)"
	}
	return string(b)
}

// exchange builds a fake response for the contract's own tests.
func exchange(method, path string, status int, header map[string]string, body string) (*http.Request, *http.Response, []byte) {
	req := httptest.NewRequest(method, path, nil)
	h := http.Header{}
	h.Set(HeaderRequestID, "test-request-1")
	h.Set("Cache-Control", "no-store")
	for k, v := range header {
		if v == "" {
			h.Del(k)
		} else {
			h.Set(k, v)
		}
	}
	return req, &http.Response{StatusCode: status, Header: h, Request: req}, []byte(body)
}

const (
	okUser = `{"id":"6c1d0a8e-0f6b-4c55-9f0e-2b8c1a7e4d10","username":"ranger.dongsheng","name":"包金山",` +
		`"role":"township_officer","scope":{"region":{"id":"0b7e3c52-55d4-4d6e-8f3a-9a2b1c0d4e5f","code":"211522105",` +
		`"name":"东升镇","level":"township"},"kinds":["fire_patrol","planting_check"]}}`
	okLogin = `{"token":"fs_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","expires_at":"2026-12-26T15:00:00Z",` +
		`"user":` + okUser + `,"device":{"id":"phone-a"}}`
	okAdminUser = `{"id":"6c1d0a8e-0f6b-4c55-9f0e-2b8c1a7e4d10","username":"admin","name":"赵立新","role":"admin",` +
		`"region_id":null,"kinds":[],"active":true,"created_at":"2026-11-26T15:00:00.123456+08:00","updated_at":"2026-11-26T07:00:00Z"}`
	okRegion = `{"id":"0b7e3c52-55d4-4d6e-8f3a-9a2b1c0d4e5f","code":"211522105","name":"东升镇","level":"township",` +
		`"parent_id":"6c1d0a8e-0f6b-4c55-9f0e-2b8c1a7e4d10","centre":{"lat":41.1,"lon":121.1},"updated_at":"2026-11-26T07:00:00Z"`
	problemJSON = "application/problem+json"
)

func problemBody(slug string, status int, extra string) string {
	return fmt.Sprintf(`{"type":%q,"title":"t","status":%d,"detail":"d","instance":"/x","request_id":"test-request-1"%s}`,
		ProblemBase+slug, status, extra)
}

// TestContractRejectsDrift feeds the validator exchanges that break the contract in one way each
// (and a few that keep it, so a broken fake cannot pass for a caught drift).
func TestContractRejectsDrift(t *testing.T) {
	ct := loadContract(t)
	jsonCT := map[string]string{"Content-Type": "application/json"}
	problemCT := map[string]string{"Content-Type": problemJSON}
	www := map[string]string{"Content-Type": problemJSON, "WWW-Authenticate": `Bearer realm="fieldsync"`}
	retry := map[string]string{"Content-Type": problemJSON, "Retry-After": "5"}
	photoContent := "/v1/photos/6c1d0a8e-0f6b-4c55-9f0e-2b8c1a7e4d10/content"
	photoOK := map[string]string{"Content-Type": "image/jpeg", "X-Content-Type-Options": "nosniff",
		"Content-Disposition": `inline; filename="___ __.jpg"; filename*=UTF-8''%E4%B8%9C%E5%8D%87%E9%95%87%20%E5%B7%A1%E6%9F%A5.jpg`}
	with := func(h map[string]string, k, v string) map[string]string {
		out := maps.Clone(h)
		out[k] = v
		return out
	}
	cases := []struct {
		name         string
		method, path string
		status       int
		header       map[string]string
		body         string
		want         string // "" = the exchange keeps the contract; else a part of the error
	}{
		{"login ok", "POST", "/v1/auth/login", 200, jsonCT, okLogin, ""},
		{"login ok with charset", "POST", "/v1/auth/login", 200, map[string]string{"Content-Type": "application/json; charset=utf-8"}, okLogin, ""},
		{"login without token", "POST", "/v1/auth/login", 200, jsonCT, strings.Replace(okLogin, `"token":"fs_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",`, "", 1), `"token" is missing`},
		{"login with an extra field", "POST", "/v1/auth/login", 200, jsonCT, strings.TrimSuffix(okLogin, "}") + `,"refresh_token":"x"}`, "refresh_token"},
		{"login with an extra nested field", "POST", "/v1/auth/login", 200, jsonCT, strings.Replace(okLogin, `"level":"township"`, `"level":"township","path":"/a/"`, 1), "path"},
		{"login scope region missing", "POST", "/v1/auth/login", 200, jsonCT, strings.Replace(okLogin, `"scope":{"region":{"id":"0b7e3c52-55d4-4d6e-8f3a-9a2b1c0d4e5f","code":"211522105","name":"东升镇","level":"township"},`, `"scope":{`, 1), `"region" is missing`},
		{"login whole-city scope", "POST", "/v1/auth/login", 200, jsonCT, strings.Replace(okLogin, `{"id":"0b7e3c52-55d4-4d6e-8f3a-9a2b1c0d4e5f","code":"211522105","name":"东升镇","level":"township"}`, "null", 1), ""},
		{"login user id not a uuid", "POST", "/v1/auth/login", 200, jsonCT, strings.Replace(okLogin, "6c1d0a8e-0f6b-4c55-9f0e-2b8c1a7e4d10", "42", 1), "/user/id"},
		{"login expiry not a date-time", "POST", "/v1/auth/login", 200, jsonCT, strings.Replace(okLogin, "2026-12-26T15:00:00Z", "tomorrow", 1), "/expires_at"},
		{"login unknown role", "POST", "/v1/auth/login", 200, jsonCT, strings.Replace(okLogin, "township_officer", "ranger", 1), "/user/role"},
		{"login success as problem+json", "POST", "/v1/auth/login", 200, problemCT, okLogin, "Content-Type"},
		{"login success that may be cached", "POST", "/v1/auth/login", 200, map[string]string{"Content-Type": "application/json", "Cache-Control": ""}, okLogin, "Cache-Control"},
		{"login 429 that may be cached", "POST", "/v1/auth/login", 429, map[string]string{"Content-Type": problemJSON, "Retry-After": "5", "Cache-Control": "private"}, problemBody("too-many-login-failures", 429, ""), "Cache-Control"},
		{"login 401 ok", "POST", "/v1/auth/login", 401, www, problemBody("invalid-credentials", 401, ""), ""},
		{"login 401 as application/json", "POST", "/v1/auth/login", 401, map[string]string{"Content-Type": "application/json", "WWW-Authenticate": "Bearer x"}, problemBody("invalid-credentials", 401, ""), "Content-Type"},
		{"login 401 without WWW-Authenticate", "POST", "/v1/auth/login", 401, problemCT, problemBody("invalid-credentials", 401, ""), "WWW-Authenticate"},
		{"login 401 of another type", "POST", "/v1/auth/login", 401, www, problemBody("unauthenticated", 401, ""), "/type"},
		{"login 401 saying 400", "POST", "/v1/auth/login", 401, www, problemBody("invalid-credentials", 400, ""), "/status"},
		{"login 429 ok", "POST", "/v1/auth/login", 429, retry, problemBody("too-many-login-failures", 429, ""), ""},
		{"login 429 without Retry-After", "POST", "/v1/auth/login", 429, problemCT, problemBody("too-many-login-failures", 429, ""), "Retry-After"},
		{"login 422 without errors", "POST", "/v1/auth/login", 422, problemCT, problemBody("validation", 422, ""), "errors"},
		{"login 422 with an unknown error code", "POST", "/v1/auth/login", 422, problemCT, problemBody("validation", 422, `,"errors":[{"field":"username","code":"bad","message":"m"}]`), "/errors/0/code"},
		{"login 422 with extension members", "POST", "/v1/auth/login", 422, problemCT, problemBody("validation", 422, `,"limit":5,"errors":[{"field":"username","code":"required","message":"m"}]`), ""},
		{"problem of an undocumented type", "POST", "/v1/auth/login", 400, problemCT, problemBody("no-such-problem", 400, ""), "/type"},
		{"problem without request_id", "POST", "/v1/auth/login", 400, problemCT, `{"type":"https://fieldsync.dev/problems/bad-request","title":"t","status":400,"instance":"/x"}`, "request_id"},
		{"undocumented status", "POST", "/v1/auth/login", 404, problemCT, problemBody("not-found", 404, ""), "status 404 is not documented"},
		{"undocumented status on healthz", "GET", "/healthz", 418, jsonCT, `{}`, "status 418 is not documented"},
		{"no X-Request-Id", "GET", "/healthz", 200, map[string]string{"Content-Type": "application/json", HeaderRequestID: ""}, `{"status":"ok","version":"dev"}`, "X-Request-Id"},
		{"bad X-Request-Id", "GET", "/healthz", 200, map[string]string{"Content-Type": "application/json", HeaderRequestID: "a b"}, `{"status":"ok","version":"dev"}`, "X-Request-Id"},
		{"a bad header and a bad body", "POST", "/v1/auth/login", 413, map[string]string{"Content-Type": problemJSON, HeaderRequestID: ""}, `{"type":"https://fieldsync.dev/problems/body-too-large","title":"t","status":413,"instance":"/x"}`, "request_id"},
		{"healthz with a wrong status value", "GET", "/healthz", 200, jsonCT, `{"status":"fine","version":"dev"}`, "/status"},
		{"HEAD healthz", "HEAD", "/healthz", 200, jsonCT, ``, ""},
		{"metrics are not on the API port", "GET", "/metrics", 200, map[string]string{"Content-Type": "text/plain; version=0.0.4; charset=utf-8; escaping=underscores"}, "# HELP x\n", "not in openapi.yaml"},
		{"photo bytes ok", "GET", photoContent, 200, photoOK, "\xff\xd8", ""},
		{"photo bytes without nosniff", "GET", photoContent, 200, with(photoOK, "X-Content-Type-Options", ""), "\xff\xd8", "X-Content-Type-Options"},
		{"photo bytes with a quote in filename", "GET", photoContent, 200, with(photoOK, "Content-Disposition", `inline; filename="a"b.jpg"; filename*=UTF-8''a%22b.jpg`), "\xff\xd8", "Content-Disposition"},
		{"photo bytes as an attachment", "GET", photoContent, 200, with(photoOK, "Content-Disposition", `attachment; filename="a.jpg"`), "\xff\xd8", "Content-Disposition"},
		{"photo bytes as HTML", "GET", photoContent, 200, with(photoOK, "Content-Type", "text/html"), "<b>", "Content-Type"},
		{"logout 204", "POST", "/v1/auth/logout", 204, nil, ``, ""},
		{"logout 204 with a body", "POST", "/v1/auth/logout", 204, jsonCT, `{"ok":true}`, "documents none"},
		{"undocumented method", "DELETE", "/healthz", 200, jsonCT, `{"status":"ok","version":"dev"}`, "not in openapi.yaml"},
		{"undocumented path", "GET", "/v1/sites", 200, jsonCT, `{}`, "not in openapi.yaml"},
		{"undocumented path answered 401", "GET", "/v1/sites", 401, www, problemBody("unauthenticated", 401, ""), "not in openapi.yaml"},
		{"undocumented path answered 404", "GET", "/v1/sites", 404, problemCT, problemBody("not-found", 404, ""), ""},
		{"undocumented method answered 404", "DELETE", "/healthz", 404, problemCT, problemBody("not-found", 404, ""), ""},
		{"undocumented path, 404 of the wrong type", "GET", "/nope", 404, problemCT, problemBody("bad-request", 404, ""), "/type"},
		{"undocumented path, 404 as JSON", "GET", "/nope", 404, jsonCT, problemBody("not-found", 404, ""), "Content-Type"},
		{"user ok", "GET", "/v1/admin/users/6c1d0a8e-0f6b-4c55-9f0e-2b8c1a7e4d10", 200, jsonCT, okAdminUser, ""},
		{"user region_id not a uuid", "GET", "/v1/admin/users/6c1d0a8e-0f6b-4c55-9f0e-2b8c1a7e4d10", 200, jsonCT, strings.Replace(okAdminUser, `"region_id":null`, `"region_id":"city"`, 1), "/region_id"},
		{"user region_id a number", "GET", "/v1/admin/users/6c1d0a8e-0f6b-4c55-9f0e-2b8c1a7e4d10", 200, jsonCT, strings.Replace(okAdminUser, `"region_id":null`, `"region_id":7`, 1), "/region_id"},
		{"user kinds null", "GET", "/v1/admin/users/6c1d0a8e-0f6b-4c55-9f0e-2b8c1a7e4d10", 200, jsonCT, strings.Replace(okAdminUser, `"kinds":[]`, `"kinds":null`, 1), "/kinds"},
		{"user list without next_cursor", "GET", "/v1/admin/users", 200, jsonCT, `{"users":[` + okAdminUser + `]}`, "next_cursor"},
		{"user list, last page", "GET", "/v1/admin/users?limit=5", 200, jsonCT, `{"users":[` + okAdminUser + `],"next_cursor":null}`, ""},
		{"regions ok", "GET", "/v1/regions", 200, jsonCT, `{"regions":[` + okRegion + `}]}`, ""},
		{"region with a boundary", "GET", "/v1/regions?boundary=true", 200, jsonCT, `{"regions":[` + okRegion + `,"boundary":{"type":"Polygon","coordinates":[[[121,41],[122,41],[122,42],[121,41]]]}}]}`, ""},
		{"region boundary out of range", "GET", "/v1/regions?boundary=true", 200, jsonCT, `{"regions":[` + okRegion + `,"boundary":{"type":"Polygon","coordinates":[[[41,121],[41,122],[42,122],[41,121]]]}}]}`, "/regions/0/boundary"},
		{"region centre out of range", "GET", "/v1/regions", 200, jsonCT, `{"regions":[` + strings.Replace(okRegion, `"lat":41.1`, `"lat":141.1`, 1) + `}]}`, "/regions/0/centre"},
		{"device revoke ok", "POST", "/v1/admin/devices/a.b:c-d/revoke", 200, jsonCT, `{"id":"a.b:c-d","user_id":"6c1d0a8e-0f6b-4c55-9f0e-2b8c1a7e4d10","name":"","platform":"","app_version":"","first_seen":"2026-11-26T07:00:00Z","last_seen":"2026-11-26T07:00:00Z","revoked":true,"revoked_at":"2026-11-26T08:00:00Z"}`, ""},
		{"device revoked_at missing", "POST", "/v1/admin/devices/a.b:c-d/revoke", 200, jsonCT, `{"id":"a.b:c-d","user_id":"6c1d0a8e-0f6b-4c55-9f0e-2b8c1a7e4d10","name":"","platform":"","app_version":"","first_seen":"2026-11-26T07:00:00Z","last_seen":"2026-11-26T07:00:00Z","revoked":true}`, "revoked_at"},
		{"503 ok", "GET", "/v1/admin/audit", 503, retry, problemBody("unavailable", 503, ""), ""},
		{"503 without Retry-After", "GET", "/v1/admin/audit", 503, problemCT, problemBody("unavailable", 503, ""), "Retry-After"},
		{"500 leaking a cause", "GET", "/v1/admin/audit", 500, problemCT, problemBody("unavailable", 500, ""), "/type"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			req, resp, body := exchange(c.method, c.path, c.status, c.header, c.body)
			err := ct.verify(req, resp, body)
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("a conforming exchange was rejected: %v", err)
			case c.want != "" && err == nil:
				t.Fatalf("drift not reported (want an error mentioning %q)", c.want)
			case c.want != "" && !strings.Contains(err.Error(), c.want):
				t.Fatalf("error does not mention %q: %v", c.want, err)
			case err != nil:
				t.Logf("reported: %v", err)
			}
		})
	}

	// check itself reports through t.Errorf, with the bodies for context.
	rec := &errRecorder{}
	req, resp, body := exchange("POST", "/v1/auth/login", 200, jsonCT, `{"token":"x"}`)
	ct.check(rec, req, []byte(`{"username":"u"}`), resp, body)
	if len(rec.errors) != 1 || !strings.Contains(rec.errors[0], "expires_at") || !strings.Contains(rec.errors[0], `{"username":"u"}`) {
		t.Fatalf("check reported %q", rec.errors)
	}
	rec = &errRecorder{}
	req, resp, body = exchange("POST", "/v1/auth/login", 200, jsonCT, okLogin)
	ct.check(rec, req, nil, resp, body)
	if len(rec.errors) != 0 {
		t.Fatalf("check reported %q for a conforming exchange", rec.errors)
	}
}

// errRecorder is a testing.TB that records Errorf calls; other methods are not used by check.
type errRecorder struct {
	testing.TB
	errors []string
}

func (r *errRecorder) Helper() {}

func (r *errRecorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

var fiberParam = regexp.MustCompile(`:([A-Za-z0-9_]+)`)

// TestContractCoversEveryRoute checks that openapi.yaml and the Fiber app list the same
// operations: every route the app registers is documented, and every documented one exists.
func TestContractCoversEveryRoute(t *testing.T) {
	ct := loadContract(t)
	app, err := func() (app *fiber.App, err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("New with a nil Store panicked: %v", r)
			}
		}()
		return New(Deps{Config: DefaultConfig()}) // no Store: handlers are listed, never called
	}()
	if err != nil {
		t.Fatal(err)
	}
	inApp := map[string]bool{}
	routes := app.GetRoutes(true)
	hasGet := map[string]bool{}
	for _, r := range routes {
		if r.Method == http.MethodGet {
			hasGet[r.Path] = true
		}
	}
	// The web console's HTML pages, form posts and assets (server/console) are not the API; its
	// JSON reads are /v1 routes and are listed here like any other.
	consolePaths := map[string]bool{}
	for _, p := range console.Paths() {
		consolePaths[p] = true
	}
	for _, r := range routes {
		if r.Method == http.MethodHead && hasGet[r.Path] { // Fiber adds HEAD to every GET route
			continue
		}
		if consolePaths[r.Path] {
			if strings.HasPrefix(r.Path, "/v1/") {
				t.Errorf("console route %s is under /v1, which is the API's", r.Path)
			}
			continue
		}
		if strings.ContainsAny(r.Path, "*+?") {
			t.Errorf("route %s %s uses a wildcard or optional parameter; document it by hand and teach this test", r.Method, r.Path)
		}
		inApp[r.Method+" "+fiberParam.ReplaceAllString(r.Path, "{$1}")] = true
	}
	inSpec := map[string]bool{}
	for path, item := range ct.doc.Paths.Map() {
		for method := range item.Operations() {
			inSpec[strings.ToUpper(method)+" "+path] = true
		}
	}
	if len(inApp) == 0 {
		t.Fatal("the app lists no routes")
	}
	for _, op := range sortedKeys(inApp) {
		if !inSpec[op] {
			t.Errorf("%s is served but not documented in openapi.yaml", op)
		}
	}
	for _, op := range sortedKeys(inSpec) {
		if !inApp[op] {
			t.Errorf("%s is documented in openapi.yaml but the server does not route it", op)
		}
	}
}

// TestContractSecurityMatchesServer sends every operation the spec marks as needing a bearer
// token without one, to an app with no database: the server must refuse each with the documented
// 401 before touching anything, and the spec must document that 401.
func TestContractSecurityMatchesServer(t *testing.T) {
	ct := loadContract(t)
	app, err := New(Deps{Config: DefaultConfig()})
	if err != nil {
		t.Fatal(err)
	}
	param := regexp.MustCompile(`\{[^}]+\}`)
	secured := 0
	for path, item := range ct.doc.Paths.Map() {
		for method, op := range item.Operations() {
			security := ct.doc.Security
			if op.Security != nil {
				security = *op.Security
			}
			if len(security) == 0 {
				continue // public: would need a database to answer
			}
			secured++
			url := param.ReplaceAllString(path, "6c1d0a8e-0f6b-4c55-9f0e-2b8c1a7e4d10")
			req := httptest.NewRequest(method, url, nil)
			res, err := app.Test(req, -1)
			if err != nil {
				t.Fatalf("%s %s: %v", method, url, err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s %s without a token: status %d, want 401 (the spec says it needs a bearer token)", method, path, res.StatusCode)
			}
			ct.check(t, req, nil, res, body)
		}
	}
	if secured == 0 {
		t.Fatal("the spec marks no operation as needing a bearer token")
	}
}

// TestContractDocumentsEveryProblemType checks that the ProblemType enum of openapi.yaml lists
// exactly the problem slugs the server's code can produce.
func TestContractDocumentsEveryProblemType(t *testing.T) {
	ct := loadContract(t)
	schema := ct.doc.Components.Schemas["ProblemType"]
	if schema == nil || schema.Value == nil {
		t.Fatal("openapi.yaml has no components.schemas.ProblemType")
	}
	documented := map[string]bool{}
	for _, v := range schema.Value.Enum {
		s, _ := v.(string)
		slug, ok := strings.CutPrefix(s, ProblemBase)
		if !ok {
			t.Errorf("problem type %q does not start with %s", s, ProblemBase)
		}
		documented[slug] = true
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	call := regexp.MustCompile(`problem\([^,()]+,\s*"([a-z0-9-]+)"`)
	used := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range call.FindAllSubmatch(src, -1) {
			used[string(m[1])] = true
		}
	}
	if len(used) == 0 {
		t.Fatal("found no problem(...) calls in the server's source; update this test")
	}
	for _, slug := range sortedKeys(used) {
		if !documented[slug] {
			t.Errorf("the server produces problem type %q, which openapi.yaml does not document", slug)
		}
	}
	for _, slug := range sortedKeys(documented) {
		if !used[slug] {
			t.Errorf("openapi.yaml documents problem type %q, which the server never produces", slug)
		}
	}
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
