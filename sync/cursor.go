package sync

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"

	"github.com/fieldsync/fieldsync/models"
)

// cursor is the position of a phone in the change log, opaque to the phone (base64url JSON).
// Seq is the last change-log seq it has; Boot, while set, is the progress of a bootstrap (a full
// snapshot of the scope) that will continue from Seq once done. Scope fingerprints the scope the
// cursor was issued for: a cursor of another scope restarts with a reset.
type cursor struct {
	V     int        `json:"v"`
	Seq   int64      `json:"s"`
	Scope string     `json:"sc"`
	Boot  *bootState `json:"b,omitempty"`
}

type bootState struct {
	Type  int    `json:"t"` // index into the registry's pull types
	After string `json:"a"` // last id sent of that type
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (*cursor, error) {
	if len(s) > 4096 {
		return nil, ErrBadCursor
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, ErrBadCursor
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil || c.V != 1 || c.Seq < 0 || (c.Boot != nil && c.Boot.Type < 0) {
		return nil, ErrBadCursor
	}
	return &c, nil
}

// scopeFingerprint identifies a scope; a change of the user's region or kinds changes it.
func scopeFingerprint(s models.Scope) string {
	kinds := make([]string, len(s.Kinds))
	for i, k := range s.Kinds {
		kinds[i] = string(k)
	}
	slices.Sort(kinds)
	h := sha256.Sum256([]byte(s.RegionPath + "|" + strings.Join(kinds, ",")))
	return hex.EncodeToString(h[:8])
}
