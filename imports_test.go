package concord_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "concord"

// TestImportDirections fails for every import between the project's
// packages that points the wrong way (ARCHITECTURE.md, "Who imports whom").
// Tests may import more: only non-test files count.
func TestImportDirections(t *testing.T) {
	edges, err := imports(".")
	if err != nil {
		t.Fatal(err)
	}
	if len(edges) == 0 {
		t.Fatal("found no imports")
	}
	for _, e := range edges {
		if why := forbidden(e[0], e[1]); why != "" {
			t.Errorf("%s imports %s: %s", e[0], e[1], why)
		}
	}
}

func TestForbiddenCatchesWrongDirections(t *testing.T) {
	for _, c := range []struct {
		from, to string
		bad      bool
	}{
		{"node", "clientapi/guilds", false},
		{"node/cmd/concord", "node", false},
		{"clientapi", "node", true},
		{"clientapi/guilds", "federation/room", false},
		{"clientapi/guilds", "sfu", true},
		{"sfu", "clientapi/gateway", true},
		{"sfu", "federation/live", false},
		{"federation/room", "storage", true},
		{"federation/room", "clientapi/objects", true},
		{"federation/live", "federation/room", true},
		{"federation/live", "federation/snowflake", false},
		{"storage/blob", "federation/snowflake", true},
		{"clientapi/gateway", "clientapi/objects", true},
		{"clientapi/gateway", "federation/live", false},
		{"clientapi/objects", "clientapi/guilds", true},
		{"clientapi/accounts", "clientapi/guilds", true},
		{"clientapi/guilds", "clientapi/accounts", false},
		{"clientapi/dispatch", "clientapi/gateway", false},
		{"clientapi/dispatch", "clientapi/guilds", true},
		{"clientapi/httperr", "clientapi/objects", true},
		{"clientapi/web", "clientapi/httperr", true},
		{"clientapi", "clientapi/web", false},
		{"examples/pingbot", "node", true},
	} {
		if got := forbidden(c.from, c.to) != ""; got != c.bad {
			t.Errorf("forbidden(%s → %s) = %v, want %v", c.from, c.to, got, c.bad)
		}
	}
}

// Packages under clientapi in layers: each may import its own layer's
// helpers and the layers listed for it, and nothing else of clientapi.
var (
	clientHelpers = []string{"auth", "httperr", "jsonio", "params", "images", "password", "ratelimit", "shortcache", "signedurl"}
	clientLayers  = map[string][]string{
		"objects":      nil,
		"gateway":      {"-"}, // not even the helpers: the wire protocol stands alone
		"accounts":     {"objects"},
		"guilds":       {"objects", "accounts"},
		"interactions": {"objects", "guilds"},
		"dispatch":     {"objects", "gateway"},
		"web":          {"-"}, // the client talks to the node over HTTP like any other
	}
)

// forbidden says why package from (a path inside the module) may not import
// package to, or "" when it may.
func forbidden(from, to string) string {
	top := func(p string) string { s, _, _ := strings.Cut(p, "/"); return s }
	under := func(p, dir string) bool { return p == dir || strings.HasPrefix(p, dir+"/") }
	switch {
	case under(to, "node"):
		if from != "node/cmd/concord" && !under(from, "node") {
			return "only the concord command imports node"
		}
	case under(to, "examples"):
		return "nothing imports the examples"
	}
	switch top(from) {
	case "storage":
		if !under(to, "storage") {
			return "storage imports nothing of the project above it"
		}
	case "federation":
		if from == "federation/live" && to != "federation/snowflake" {
			return "the live state imports nothing of ours but snowflake"
		}
		if !under(to, "federation") {
			return "federation reaches storage only through interfaces of its own, and nothing above it"
		}
	case "sfu":
		if !under(to, "sfu") && !under(to, "federation") && !under(to, "storage") {
			return "the SFU uses federation and storage only"
		}
	case "clientapi":
		if !under(to, "clientapi") && !under(to, "federation") && !under(to, "storage") {
			return "the client API uses federation and storage only"
		}
		return clientForbidden(strings.TrimPrefix(from, "clientapi"), strings.TrimPrefix(to, "clientapi"))
	}
	return ""
}

// clientForbidden applies the layers inside clientapi; from and to are
// relative to it ("" for clientapi itself, "/guilds" …).
func clientForbidden(from, to string) string {
	if from == "" || !strings.HasPrefix(to, "/") {
		return "" // the assembly mounts everything; federation and storage are fine
	}
	f, _, _ := strings.Cut(strings.TrimPrefix(from, "/"), "/")
	g, _, _ := strings.Cut(strings.TrimPrefix(to, "/"), "/")
	if f == g {
		return ""
	}
	may, layered := clientLayers[f]
	switch {
	case !layered && slices.Contains(clientHelpers, g):
		return "" // helpers use each other
	case !layered:
		return "a helper imports only other helpers"
	case slices.Contains(may, "-"):
		return "clientapi/" + f + " imports nothing else of clientapi"
	case slices.Contains(clientHelpers, g) || slices.Contains(may, g):
		return ""
	}
	return "clientapi/" + f + " may import only the helpers and " + strings.Join(may, ", ")
}

// imports lists every import from one of the module's packages to another,
// as [from, to] paths relative to the module, reading the non-test files
// under root.
func imports(root string) ([][2]string, error) {
	var out [][2]string
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		from := filepath.ToSlash(filepath.Dir(path))
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if to, ok := strings.CutPrefix(p, module+"/"); ok {
				out = append(out, [2]string{from, to})
			}
		}
		return nil
	})
	return out, err
}
