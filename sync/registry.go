package sync

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/google/uuid"
)

// Mutation is one entry of a phone's queue.
type Mutation struct {
	ID         int64           `json:"id"`
	Name       string          `json:"name"`
	Args       json.RawMessage `json:"args"`
	ClientTime string          `json:"client_time,omitempty"`
}

// Ref names a record (or region) a mutation reads, so the engine loads all of a push's records
// in one query per type before applying anything.
type Ref struct {
	Type string
	ID   uuid.UUID
}

// Handler applies one mutation name. Refs lists what Apply will read (best effort: a malformed
// argument yields no refs and Apply rejects it). Apply returns the written entity and conflict
// ids, a *Reject for a permanent error, or another error to fail the whole push.
type Handler struct {
	Refs  func(args json.RawMessage) []Ref
	Apply func(w *Work, m Mutation) (*models.EntityRef, []uuid.UUID, error)
}

// KindRules are the rules one kind of field work adds on top of the shared visit and finding
// rules. New kinds of field work plug in here without touching the engine.
//
// ValidateVisit runs after models.Visit.Validate passed, at visit.create, visit.update and
// visit.submit, on the visit as it would be stored (at visit.submit: status submitted, ended_at
// set). It adds one error per broken rule to ve, naming the field ("site_id", "answers.stage",
// "answers.products[2].category", "track") and the rule as its code; it returns an error only
// when a look-up fails (the push then fails and is retried), never for bad input. Rules on what
// a draft must hold (the site and its kind, required answers, ranges) apply from visit.create on;
// rules on a finished visit (a patrol's track, an input check's products) apply when the visit
// is submitted or already is (k.Submitting() or v.Status == submitted), so drafts stay usable
// offline. ValidateFinding runs after models.Finding.Validate at finding.create and
// finding.update.
type KindRules interface {
	ValidateVisit(k KindCtx, v *models.Visit, ve *models.ValidationError) error
	ValidateFinding(f *models.Finding, ve *models.ValidationError)
}

// KindCtx is what kind rules may look up while a push applies (implemented by *Work).
type KindCtx interface {
	// Site returns a live (not deleted) site record, nil when there is none.
	Site(id uuid.UUID) (*models.Record, error)
	// Region returns a region, nil when there is none.
	Region(id uuid.UUID) (*models.Region, error)
	// Track returns the live track of a patrol visit (the track record has the visit's id), nil
	// when none was appended.
	Track(visitID uuid.UUID) (*models.Record, error)
	// Submitting reports whether the mutation being applied is visit.submit.
	Submitting() bool
}

// PullType loads one record type for pull: Load by ids (incremental; clientID is the pulling app
// install), Scan a scope (bootstrap).
type PullType struct {
	Name string
	Load func(ctx context.Context, st *storage.Store, clientID uuid.UUID, ids []string) (map[string]Loaded, error)
	Scan func(ctx context.Context, st *storage.Store, q Query, after string, limit int) ([]Loaded, error)
}

// Query is who a bootstrap scans for: the actor and their app install.
type Query struct {
	Actor
	ClientID uuid.UUID
}

// Loaded is a record as pull sends it, with what the scope rule needs.
type Loaded struct {
	ID         string
	Version    int64
	Data       json.RawMessage
	RegionPath string
	Kind       models.Kind
	Deleted    bool
	OwnerUser  *uuid.UUID // for users: the record is the caller's own
	Addressed  bool       // a notification addressed to the caller (conflict, rejection): always sent
	Withheld   []string   // what Data leaves out of the stored record (see safeVisitData); pull logs it
}

// Registry maps mutation names to handlers, kinds to their rules and types to their loaders.
type Registry struct {
	handlers map[string]Handler
	kinds    map[models.Kind]KindRules
	types    []PullType
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{handlers: map[string]Handler{}, kinds: map[models.Kind]KindRules{}}
}

// Handle registers the handler of a mutation name; a name is registered once.
func (r *Registry) Handle(name string, h Handler) {
	if _, dup := r.handlers[name]; dup {
		panic(fmt.Sprintf("sync: mutation %q registered twice", name))
	}
	r.handlers[name] = h
}

// Kind registers the rules of a kind of field work.
func (r *Registry) Kind(k models.Kind, rules KindRules) { r.kinds[k] = rules }

// Type registers a pull type; bootstrap sends types in registration order.
func (r *Registry) Type(t PullType) { r.types = append(r.types, t) }

// Names lists the registered mutation names.
func (r *Registry) Names() []string {
	out := make([]string, 0, len(r.handlers))
	for n := range r.handlers {
		out = append(out, n)
	}
	return out
}

func (r *Registry) pullType(name string) (PullType, bool) {
	for _, t := range r.types {
		if t.Name == name {
			return t, true
		}
	}
	return PullType{}, false
}

// DefaultRegistry registers every mutation and pull type of protocol v1.
func DefaultRegistry() *Registry { return registryFor(DefaultConfig()) }

// registryFor is the registry of protocol v1 with cfg's tunables (the coverage buffer of tracks).
func registryFor(cfg Config) *Registry {
	r := NewRegistry()
	registerVisits(r)
	registerKinds(r)
	registerFindings(r)
	registerTracksWithBuffer(r, cfg.CoverageBufferM)
	registerPhotos(r)
	registerPullTypes(r)
	return r
}

// Reject is a permanent error of one mutation: it is answered as "rejected", its id still
// advances, and pull delivers it to the phone as a rejection record.
type Reject struct {
	Code    string
	Message string
	Field   string
}

func (r *Reject) Error() string { return "sync: rejected: " + r.Code + ": " + r.Message }

func reject(code, field, format string, args ...any) *Reject {
	return &Reject{Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// maxRejectMessages bounds the messages one rejection lists: it is stored with the push's
// results and sent by pull, so a mutation with hundreds of faults must not make it large.
const maxRejectMessages = 20

// rejectInvalid turns validation errors into a rejection naming the first field and rule and
// listing the messages (at most maxRejectMessages, then how many more there are).
func rejectInvalid(ve *models.ValidationError) *Reject {
	first := ve.Errors[0]
	var sb strings.Builder
	for i, fe := range ve.Errors {
		if i == maxRejectMessages {
			fmt.Fprintf(&sb, "; and %d more", len(ve.Errors)-i)
			break
		}
		if i > 0 {
			sb.WriteString("; ")
		}
		sb.WriteString(truncate(fe.Field, 200) + ": " + fe.Message)
	}
	return &Reject{Code: first.Code, Field: truncate(first.Field, 200), Message: sb.String()}
}
