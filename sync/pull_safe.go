package sync

import (
	"encoding/json"

	"github.com/fieldsync/fieldsync/models"
	"github.com/google/uuid"
)

// One bad stored record must never break a pull. Push keeps every answer within the answer limits
// (models.CheckAnswerValue), but records stored before those limits were enforced may break them:
// an answer nested thousands deep stops many JSON parsers (and Go's encoder past 10,000 levels),
// a number beyond a float64 stops Go's decoder. Pull therefore sends such a record in a safe form,
// documented in openapi.yaml (schema Withheld), and logs it:
//
//   - a visit: each answer that breaks the limits is sent as null, and data.withheld lists it
//     ("answers.<key>"); the stored record is left as it is (an update that sets the answer, or
//     sets it to null, repairs it);
//   - a conflict: a server_value or client_value that breaks them is sent as null, listed in
//     data.withheld ("server_value", "client_value"); the conflict list and a resolution's answer
//     (GET /v1/conflicts, POST /v1/conflicts/{id}/resolve) send it the same way;
//   - a visit whose data cannot be read at all is sent as {"id": …, "withheld": ["*"]}.

// safeVisitData returns a stored visit's data as pull sends it and what it withheld (nil when the
// data is sent as stored, the common case, which costs one walk of its bytes and no copy).
func safeVisitData(id uuid.UUID, data json.RawMessage) (json.RawMessage, []string) {
	out, withheld, ok := models.WithholdBadAnswers(data)
	if !ok {
		stub, _ := json.Marshal(map[string]any{"id": id, models.Withheld: []string{"*"}})
		return stub, []string{"*"}
	}
	return out, withheld
}

// withholdConflict puts a conflict in the form the API sends (pull, the conflict list, a
// resolution): a server_value or client_value that breaks the answer limits becomes null and is
// listed in c.Withheld.
func withholdConflict(c *models.Conflict) {
	c.Withheld = nil
	if !models.AnswerFieldWithinLimits(c.Field, c.ServerValue) {
		c.ServerValue, c.Withheld = nil, append(c.Withheld, "server_value")
	}
	if !models.AnswerFieldWithinLimits(c.Field, c.ClientValue) {
		c.ClientValue, c.Withheld = nil, append(c.Withheld, "client_value")
	}
}

// safeConflictData returns a conflict's data as pull sends it and what it withheld.
func safeConflictData(c models.Conflict) (json.RawMessage, []string) {
	withholdConflict(&c)
	data, _ := json.Marshal(c)
	return data, c.Withheld
}

// sent is one change of a pull page; a record sent in a safe form is logged once per page.
func (p *puller) sent(typ string, l Loaded) ChangeOut {
	if len(l.Withheld) > 0 {
		p.e.log.Warn("pull: stored record breaks the limits; sent with parts withheld", "type", typ, "id", l.ID,
			"withheld", l.Withheld, "client_id", p.clientID)
	}
	return ChangeOut{Type: typ, ID: l.ID, Op: models.OpPut, Version: l.Version, Data: l.Data}
}
