package sync

import (
	"bytes"
	"encoding/json"
	"sort"
	"strings"

	"github.com/fieldsync/fieldsync/models"
	"github.com/google/uuid"
)

// update is the argument of every *.update mutation: the version the phone last saw and only the
// fields the user changed.
type update struct {
	ID          uuid.UUID                  `json:"id"`
	BaseVersion int64                      `json:"base_version"`
	Set         map[string]json.RawMessage `json:"set"`
}

// mergeResult is a record's data after a field-level merge.
type mergeResult struct {
	data      map[string]json.RawMessage
	changed   []string // fields whose value changed
	conflicts []models.Conflict
}

// sameJSON compares two JSON values by their compact form.
func sameJSON(a, b json.RawMessage) bool {
	if len(a) == 0 {
		a = json.RawMessage("null")
	}
	if len(b) == 0 {
		b = json.RawMessage("null")
	}
	var ca, cb bytes.Buffer
	if json.Compact(&ca, a) != nil || json.Compact(&cb, b) != nil {
		return bytes.Equal(a, b)
	}
	return bytes.Equal(ca.Bytes(), cb.Bytes())
}

// merge applies u.Set to rec's data field by field. The rule (documented in openapi.yaml):
//   - a field nobody else changed since base_version takes the phone's value;
//   - a field changed on the server since base_version to a different value is a conflict: the
//     later arrival (this push) wins, and a conflict record keeps both values, who and when.
//
// "answers.<key>" addresses one checklist answer; "answers" replaces them all. allowed says which
// fields the type lets phones set.
func (w *Work) merge(rec *models.Record, u update, allowed []string) (*mergeResult, *Reject) {
	if u.BaseVersion < 1 || u.BaseVersion > rec.Version {
		return nil, reject("invalid", "base_version", "base_version must be between 1 and the record's version %d", rec.Version)
	}
	if len(u.Set) == 0 {
		return nil, reject("required", "set", "set must name at least one field")
	}
	var data map[string]json.RawMessage
	if err := json.Unmarshal(rec.Data, &data); err != nil {
		return nil, reject("internal", "", "stored record is unreadable")
	}
	answers := map[string]json.RawMessage{}
	if raw, ok := data["answers"]; ok && string(raw) != "null" {
		_ = json.Unmarshal(raw, &answers)
	}
	fields := make([]string, 0, len(u.Set))
	for f := range u.Set {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	res := &mergeResult{data: data}
	answersTouched := false
	for _, f := range fields {
		val := u.Set[f]
		key, isAnswer := strings.CutPrefix(f, "answers.")
		switch {
		case isAnswer && containsStr(allowed, "answers"):
			if !models.ValidAnswerKey(key) {
				return nil, reject("invalid", "set."+f, "answer keys are lower_snake_case, at most 64 characters")
			}
		case !containsStr(allowed, f):
			return nil, reject("not_updatable", "set."+f, "%q cannot be changed with an update (updatable: %s)", f, strings.Join(allowed, ", "))
		}
		var cur json.RawMessage
		if isAnswer {
			cur = answers[key]
		} else {
			cur = data[f]
		}
		if sameJSON(cur, val) {
			continue
		}
		if m, changedSince := w.changedSince(rec, f, u.BaseVersion); changedSince {
			res.conflicts = append(res.conflicts, w.newConflict(rec, f, u.BaseVersion, cur, val, m))
		}
		if isAnswer {
			if string(val) == "null" {
				delete(answers, key)
			} else {
				answers[key] = val
			}
			answersTouched = true
		} else {
			data[f] = val
			if f == "answers" {
				_ = json.Unmarshal(val, &answers)
				if answers == nil {
					answers = map[string]json.RawMessage{}
				}
			}
		}
		res.changed = append(res.changed, f)
	}
	if answersTouched {
		b, _ := json.Marshal(answers)
		data["answers"] = b
	}
	return res, nil
}

// changedSince reports whether field f (or, for "answers", any answer) was changed after base by
// someone else: a phone's own earlier edits (queued offline with the same base) never conflict
// with its later ones.
func (w *Work) changedSince(rec *models.Record, f string, base int64) (models.FieldMeta, bool) {
	var latest models.FieldMeta
	found := false
	for k, m := range rec.FieldMeta {
		hit := k == f || (f == "answers" && strings.HasPrefix(k, "answers.")) ||
			(strings.HasPrefix(f, "answers.") && k == "answers")
		own := m.ClientID != nil && *m.ClientID == w.clientID
		if hit && !own && m.Version > base && (!found || m.Version > latest.Version) {
			latest, found = m, true
		}
	}
	return latest, found
}

func (w *Work) newConflict(rec *models.Record, f string, base int64, server, client json.RawMessage, m models.FieldMeta) models.Conflict {
	cid := w.clientID
	c := models.Conflict{ID: uuid.New(), RecordType: rec.Type, RecordID: rec.ID, Field: f, RegionPath: rec.RegionPath,
		Kind: rec.Kind, BaseVersion: base, Kept: "client", ServerValue: server, ClientValue: client,
		Server: models.ConflictSide{Version: m.Version, UserID: m.UserID, DeviceID: m.DeviceID, At: m.At},
		Client: models.ConflictSide{UserID: w.actor.User.ID, DeviceID: w.actor.DeviceID, ClientID: &cid,
			MutationID: w.mutation.ID, At: w.now},
		CreatedAt: w.now}
	if t, err := parseClientTime(w.mutation.ClientTime); err == nil {
		c.Client.ClientTime = t
	}
	return c
}

// commit bumps the record's version and stamps the changed fields; conflicts are recorded.
func (w *Work) commitMerge(rec *models.Record, res *mergeResult) []uuid.UUID {
	if len(res.changed) == 0 {
		return nil
	}
	rec.Version++
	if rec.FieldMeta == nil {
		rec.FieldMeta = map[string]models.FieldMeta{}
	}
	for _, f := range res.changed {
		rec.FieldMeta[f] = w.meta(rec.Version)
		if f == "answers" {
			for k := range rec.FieldMeta {
				if strings.HasPrefix(k, "answers.") {
					delete(rec.FieldMeta, k)
				}
			}
		}
	}
	ids := make([]uuid.UUID, len(res.conflicts))
	for i, c := range res.conflicts {
		w.Conflict(c)
		ids[i] = c.ID
	}
	return ids
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
