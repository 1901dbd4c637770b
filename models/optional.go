package models

import "encoding/json"

// Optional tells a field that was left out of a partial update (PATCH body) from one set to null:
// Set is true when the field was present, Null when it was null, and Value holds it otherwise.
type Optional[T any] struct {
	Set   bool
	Null  bool
	Value T
}

// UnmarshalJSON records that the field was present.
func (o *Optional[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Null = true
		return nil
	}
	return json.Unmarshal(b, &o.Value)
}

// Some returns an Optional holding v, as a decoded field set to v would.
func Some[T any](v T) Optional[T] { return Optional[T]{Set: true, Value: v} }
