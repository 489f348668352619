package clientapi

import "encoding/json"

// optional is a PATCH field: Set when the client sent it, Null when it sent
// null (which clears the value), V otherwise.
type optional[T any] struct {
	Set  bool
	Null bool
	V    T
}

func (o *optional[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Null = true
		return nil
	}
	return json.Unmarshal(b, &o.V)
}
