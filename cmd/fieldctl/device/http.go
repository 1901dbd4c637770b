package device

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ProblemBase prefixes every problem type the server sends.
const ProblemBase = "https://fieldsync.dev/problems/"

// maxResponseBytes bounds what the client reads of one answer (a pull page is well below).
const maxResponseBytes = 256 << 20

// FieldError is one broken field of a 422 problem.
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Problem is an RFC 9457 problem+json answer. Slug is the type without ProblemBase
// ("mutation-gap"); the extension members the protocol defines are decoded too.
type Problem struct {
	Status             int          `json:"status"`
	Type               string       `json:"type"`
	Title              string       `json:"title"`
	Detail             string       `json:"detail"`
	Errors             []FieldError `json:"errors,omitempty"`
	ExpectedMutationID int64        `json:"expected_mutation_id,omitempty"`
	MinProtocolVersion int          `json:"min_protocol_version,omitempty"`
	Limit              int          `json:"limit,omitempty"`
	Slug               string       `json:"-"`
}

func (p *Problem) Error() string {
	msg := p.Detail
	if msg == "" {
		msg = p.Title
	}
	if len(p.Errors) > 0 {
		parts := make([]string, len(p.Errors))
		for i, e := range p.Errors {
			parts[i] = e.Field + ": " + e.Message
		}
		msg += " (" + strings.Join(parts, "; ") + ")"
	}
	return fmt.Sprintf("server said %d %s: %s", p.Status, p.Slug, msg)
}

// parseProblem reads a problem from an answer; a body that is not one still gives a Problem
// carrying the status.
func parseProblem(status int, body []byte) *Problem {
	p := &Problem{}
	_ = json.Unmarshal(body, p)
	p.Status = status
	p.Slug = strings.TrimPrefix(p.Type, ProblemBase)
	if p.Slug == "" {
		p.Slug = strings.ToLower(strings.ReplaceAll(http.StatusText(status), " ", "-"))
	}
	return p
}

// ErrUnavailable means the server could not be reached or stayed unavailable (network errors,
// 502/503/504) through every retry. Nothing local was lost; sync again later.
var ErrUnavailable = errors.New("server unavailable")

// RetryPolicy is exponential backoff with jitter. The zero value uses the defaults.
type RetryPolicy struct {
	Base     time.Duration // first delay (default 500 ms)
	Max      time.Duration // largest computed delay (default 30 s); a longer Retry-After is still honoured
	Attempts int           // tries per call, the first included (default 8)
	// Sleep waits d or until ctx ends (default: a timer). Tests record the delays with it.
	Sleep func(ctx context.Context, d time.Duration) error
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.Base <= 0 {
		p.Base = 500 * time.Millisecond
	}
	if p.Max <= 0 {
		p.Max = 30 * time.Second
	}
	if p.Attempts <= 0 {
		p.Attempts = 8
	}
	if p.Sleep == nil {
		p.Sleep = sleepCtx
	}
	return p
}

// Delay is the wait before retry number attempt (0 = the first retry): half of
// min(Max, Base·2^attempt) plus a random part up to the other half ("equal jitter"), and never
// less than the server's Retry-After.
func (p RetryPolicy) Delay(attempt int, retryAfter time.Duration) time.Duration {
	p = p.withDefaults()
	ceil := p.Max
	if attempt < 30 && p.Base<<attempt < p.Max {
		ceil = p.Base << attempt
	}
	d := ceil/2 + time.Duration(rand.Int64N(int64(ceil/2)+1))
	return max(d, retryAfter)
}

// ParseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date (RFC 9110 10.2.3).
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		return time.Duration(min(n, 24*3600)) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// response is a whole answer.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// request is one call the client may send several times.
type request struct {
	Method, URL string
	Header      http.Header
	Body        []byte
}

// transientStatus reports whether an answer asks to come back later.
func transientStatus(s int) bool {
	return s == http.StatusServiceUnavailable || s == http.StatusBadGateway || s == http.StatusGatewayTimeout ||
		s == http.StatusRequestTimeout
}

// do sends req, retrying network errors and transient statuses per policy; it returns the first
// other answer. ErrUnavailable (wrapping the last cause) when every try failed.
func do(ctx context.Context, hc *http.Client, p RetryPolicy, req request, onRetry func(time.Duration, error)) (*response, error) {
	p = p.withDefaults()
	var last error
	for attempt := 0; attempt < p.Attempts; attempt++ {
		res, err := once(ctx, hc, req)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var wait time.Duration
		switch {
		case err != nil:
			last = err
		case transientStatus(res.Status):
			last = parseProblem(res.Status, res.Body)
			wait, _ = ParseRetryAfter(res.Header.Get("Retry-After"), time.Now())
		default:
			return res, nil
		}
		if attempt == p.Attempts-1 {
			break
		}
		d := p.Delay(attempt, wait)
		if onRetry != nil {
			onRetry(d, last)
		}
		if err := p.Sleep(ctx, d); err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("%w: %s %s: %v", ErrUnavailable, req.Method, req.URL, last)
}

func once(ctx context.Context, hc *http.Client, req request) (*response, error) {
	var body io.Reader
	if req.Body != nil {
		body = bytes.NewReader(req.Body)
	}
	hr, err := http.NewRequestWithContext(ctx, req.Method, req.URL, body)
	if err != nil {
		return nil, err
	}
	for k, vs := range req.Header {
		hr.Header[k] = vs
	}
	res, err := hc.Do(hr)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, maxResponseBytes))
	if err != nil {
		return nil, err
	}
	return &response{Status: res.StatusCode, Header: res.Header, Body: data}, nil
}

// jsonRequest builds a JSON POST with the bearer token (when given).
func jsonRequest(url, token string, v any) (request, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return request{}, err
	}
	h := http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	return request{Method: http.MethodPost, URL: url, Header: h, Body: body}, nil
}
