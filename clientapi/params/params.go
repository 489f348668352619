// Package params reads what a client API route takes from outside its body:
// path segments, query parameters and the audit log reason header, turning
// bad values into Discord's errors. Any package under clientapi may import
// it.
package params

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/go-chi/chi/v5"

	"concord/clientapi/httperr"
	"concord/federation/snowflake"
)

// ID parses the {name} path segment as a snowflake; a malformed one answers
// notFound, since no object has that ID.
func ID(r *http.Request, name string, notFound error) (snowflake.ID, error) {
	id, err := snowflake.Parse(chi.URLParam(r, name))
	if err != nil {
		return 0, notFound
	}
	return id, nil
}

// Int reads an integer query parameter in [lo, hi]; absent gives def.
func Int(r *http.Request, name string, def, lo, hi int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, httperr.Field(name, "NUMBER_TYPE_MAX", "Value must be between "+strconv.Itoa(lo)+" and "+strconv.Itoa(hi)+".")
	}
	return n, nil
}

// Snowflake reads an optional snowflake query parameter; absent gives 0.
func Snowflake(r *http.Request, name string) (snowflake.ID, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	id, err := snowflake.Parse(v)
	if err != nil {
		return 0, httperr.Field(name, "NUMBER_TYPE_COERCE", "Value is not snowflake.")
	}
	return id, nil
}

// Bool reads a boolean query parameter as Discord does: true, True and 1
// are true; anything else, or nothing, is false.
func Bool(r *http.Request, name string) bool {
	switch r.URL.Query().Get(name) {
	case "true", "True", "1":
		return true
	}
	return false
}

// maxReason is Discord's bound on an audit log reason.
const maxReason = 512

// AuditReason is the audit log reason Discord's libraries send in a header
// (URL-encoded) or, for bans and kicks, in the query.
func AuditReason(r *http.Request) string {
	if h := r.Header.Get("X-Audit-Log-Reason"); h != "" {
		if s, err := url.PathUnescape(h); err == nil {
			return Truncate(s, maxReason)
		}
		return Truncate(h, maxReason)
	}
	return Truncate(r.URL.Query().Get("reason"), maxReason)
}

// Truncate cuts s to at most n characters.
func Truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}
