// Package vectors keeps the protocol's test vectors (spec/test-vectors/)
// in step with the code: a test renders what the code says, and the file
// must hold exactly that; `go test -update` rewrites it. The test then
// checks the code against the file on the file's own terms, as another
// implementation would. Only tests import it.
package vectors

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the spec/test-vectors files this package's tests render")

// Encode renders a vector file: indented JSON, with <, > and & as written.
func Encode(t testing.TB, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Sync makes sure the file at path holds want, rewriting it first under
// -update, and returns the file's bytes.
func Sync(t testing.TB, path string, want []byte) []byte {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is stale: run this package's tests with -update and review the change", path)
	}
	return got
}
