// Package jsonio reads bounded JSON request bodies and writes JSON replies
// for the client API, turning every decoding failure into Discord's 50035
// Invalid Form Body naming the offending field. Any package under clientapi
// may import it.
package jsonio

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"unicode/utf8"

	"concord/clientapi/httperr"
)

// MaxBody is the default bound on a JSON request body.
const MaxBody = 64 << 10

// BodyField names the whole body in errors that concern no single field.
const BodyField = "_body"

// Decode reads one JSON value of at most limit bytes from r's body into dst.
// Unknown fields are ignored, as Discord does; anything after the value is
// an error.
func Decode(r *http.Request, limit int64, dst any) error {
	return decode(r, limit, dst, false)
}

func decode(r *http.Request, limit int64, dst any, optional bool) error {
	if r.Body == nil || r.Body == http.NoBody {
		if optional {
			return nil
		}
		return httperr.Field(BodyField, "BASE_TYPE_REQUIRED", "This field is required")
	}
	lr := &io.LimitedReader{R: r.Body, N: limit + 1}
	data, err := io.ReadAll(lr)
	if lr.N <= 0 {
		return httperr.Field(BodyField, "BASE_TYPE_MAX_LENGTH", fmt.Sprintf("Must be %d bytes or fewer.", limit))
	}
	if err != nil {
		return httperr.Field(BodyField, "BASE_TYPE_BAD_TYPE", "The request body could not be read.")
	}
	// JSON is UTF-8 (RFC 8259): decoding would turn bad bytes into U+FFFD
	// silently, so that no rule after it could see them.
	if !utf8.Valid(data) {
		return httperr.Field(BodyField, "BASE_TYPE_BAD_TYPE", "The request body is not valid UTF-8.")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	err = dec.Decode(dst)
	// dec.More is false before a stray "}" or "]": look at the bytes.
	if err == nil && len(bytes.TrimSpace(data[dec.InputOffset():])) > 0 {
		err = errors.New("trailing data")
	}
	if err == nil {
		return nil
	}
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF) && optional:
		return nil
	case errors.Is(err, io.EOF):
		return httperr.Field(BodyField, "BASE_TYPE_REQUIRED", "This field is required")
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return httperr.Field(typeErr.Field, "BASE_TYPE_BAD_TYPE", "Must be of type "+jsonType(typeErr.Type.Kind().String()))
	default:
		return httperr.Field(BodyField, "BASE_TYPE_BAD_TYPE", "The request body contains invalid JSON.")
	}
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "array"
	case "map", "struct":
		return "object"
	default:
		return "number"
	}
}

// DecodeOptional is Decode for bodies that may be absent: an empty body
// leaves dst as it is.
func DecodeOptional(r *http.Request, limit int64, dst any) error {
	return decode(r, limit, dst, true)
}

// Write sends v as JSON with the given status.
func Write(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// Optional is a PATCH field: Set when the client sent it, Null when it
// sent null (which clears the value), V otherwise.
type Optional[T any] struct {
	Set  bool
	Null bool
	V    T
}

func (o *Optional[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Null = true
		return nil
	}
	return json.Unmarshal(b, &o.V)
}
