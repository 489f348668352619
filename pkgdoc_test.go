package concord_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestPackageDocs fails for every package in the module that lacks a package
// doc comment: each package says what it is for and who may import it
// (ARCHITECTURE.md).
func TestPackageDocs(t *testing.T) {
	missing, n, err := undocumented(".")
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("found no packages")
	}
	for _, dir := range missing {
		t.Errorf("package %s has no package doc comment (// Package ... before the package clause)", dir)
	}
}

func TestUndocumentedFindsMissingDocs(t *testing.T) {
	root := t.TempDir()
	for path, text := range map[string]string{
		"a/a.go":               "// Package a is documented.\npackage a\n",
		"a/b.go":               "package a\n",
		"b/b.go":               "package b\n",
		"b/b_test.go":          "// Package b is documented only in a test.\npackage b\n",
		"c/testdata/x/x.go":    "package x\n",
		"d/.hidden/h.go":       "package h\n",
		"e/cmd/tool/main.go":   "// Command tool is documented.\npackage main\n",
		"e/cmd/other/other.go": "package main\n",
	} {
		path = filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	missing, n, err := undocumented(root)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(root, "b"), filepath.Join(root, "e/cmd/other")}
	if !reflect.DeepEqual(missing, want) || n != 4 {
		t.Errorf("undocumented = %v of %d packages, want %v of 4", missing, n, want)
	}
}

// undocumented walks the tree under root as the go tool would and returns
// the package directories none of whose non-test files has a doc comment,
// sorted, and how many package directories it saw.
func undocumented(root string) (missing []string, packages int, err error) {
	hasDoc := map[string]bool{}
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (name == "testdata" || name == "vendor" ||
				strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.PackageClauseOnly|parser.ParseComments)
		if err != nil {
			return err
		}
		dir := filepath.Dir(path)
		hasDoc[dir] = hasDoc[dir] || f.Doc != nil
		return nil
	})
	for dir, ok := range hasDoc {
		if !ok {
			missing = append(missing, dir)
		}
	}
	slices.Sort(missing)
	return missing, len(hasDoc), err
}
