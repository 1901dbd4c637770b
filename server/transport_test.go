package server

import (
	"bytes"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// operation is one method and path of openapi.yaml, with its path parameters filled in.
type operation struct {
	method, path, url string
}

var pathParam = regexp.MustCompile(`\{[^}]+\}`)

// specOperations lists every operation of openapi.yaml, ids replaced by a UUID nobody has.
func specOperations(t *testing.T) []operation {
	t.Helper()
	ct := loadContract(t)
	var ops []operation
	for path, item := range ct.doc.Paths.Map() {
		for method := range item.Operations() {
			ops = append(ops, operation{method: strings.ToUpper(method), path: path,
				url: pathParam.ReplaceAllString(path, "6c1d0a8e-0f6b-4c55-9f0e-2b8c1a7e4d10")})
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].path+ops[i].method < ops[j].path+ops[j].method })
	return ops
}

// transportStatuses are the refusals any operation can get before it is routed, documented on
// every operation: a request fasthttp cannot parse (400), a head (request line and headers) over
// maxRequestHead (431), a request target over maxURILength (414), a body over the body limit
// (413, even on a GET: a body with a Content-Length is read) and a request that does not arrive
// in time (408).
var transportStatuses = []string{"400", "408", "413", "414", "431"}

// TestContractDocumentsTransportRefusals checks that every operation of openapi.yaml documents
// the refusals every request can meet.
func TestContractDocumentsTransportRefusals(t *testing.T) {
	ct := loadContract(t)
	for path, item := range ct.doc.Paths.Map() {
		for method, op := range item.Operations() {
			for _, code := range transportStatuses {
				if op.Responses.Value(code) == nil {
					t.Errorf("%s %s does not document %s", strings.ToUpper(method), path, code)
				}
			}
		}
	}
}

// TestTransportRefusals sends every operation a URI too long, a head too large, a body too large
// and a request fasthttp cannot parse, without a token (each is refused before authentication):
// each answer is the documented problem (the harness validates it against openapi.yaml).
func TestTransportRefusals(t *testing.T) {
	h := newHarness(t)
	for _, op := range specOperations(t) {
		long := op.url + "?pad=" + strings.Repeat("a", maxURILength)
		r := h.do(op.method, long, "", nil)
		if op.method != http.MethodHead {
			if r.Status != 414 || r.problemType(t) != "uri-too-long" {
				t.Errorf("%s %s with a %d-byte URI: %d %s", op.method, op.path, len(long), r.Status, r.Body)
			}
		}
		pad := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: fieldsync\r\nX-Pad: %s\r\n\r\n", op.method, op.url, strings.Repeat("a", maxRequestHead))
		r = h.raw(op.method, op.url, []byte(pad))
		if op.method != http.MethodHead && (r.Status != 431 || r.problemType(t) != "headers-too-large") {
			t.Errorf("%s %s with a header of %d bytes: %d %s", op.method, op.path, maxRequestHead, r.Status, r.Body)
		}
		raw := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: fieldsync\r\nContent-Length: twelve\r\n\r\n", op.method, op.url)
		r = h.raw(op.method, op.url, []byte(raw))
		if op.method != http.MethodHead && (r.Status != 400 || r.problemType(t) != "bad-request") {
			t.Errorf("%s %s with Content-Length: twelve: %d %s", op.method, op.path, r.Status, r.Body)
		}
		if op.method == http.MethodHead || op.path == pushPath || (op.method == http.MethodPatch && op.path == uploadsPath+"/{id}") {
			continue // no body in the answer, or a body read with a limit of its own
		}
		r = h.do(op.method, op.url, "", bytes.Repeat([]byte(" "), h.app.Config().BodyLimit))
		if r.Status != 413 || r.problemType(t) != "body-too-large" {
			t.Errorf("%s %s with a body over the limit: %d %.200s", op.method, op.path, r.Status, r.Body)
		}
	}
}
