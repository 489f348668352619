// Package web is the node's own client: plain HTML, CSS and JavaScript
// modules embedded in the binary, served at / with no build step. The
// client talks to the node only through its public API, the same REST and
// gateway bots use.
//
// Every asset is served under /assets/<version>/, where the version is a
// hash of all of them, so that assets can be cached for a year and a new
// binary's client is fetched at once; the page itself is never cached.
// Text assets are gzipped once, at start. Every answer carries a strict
// Content-Security-Policy: scripts only from the node, no inline script.
//
// Package clientapi mounts it; it imports nothing of the project.
package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"sort"
	"strings"

	"github.com/go-chi/chi/v5"
)

//go:embed static
var static embed.FS

// CSP is the policy every answer of the client carries. Styles come only
// from app.css (the scripts set sizes through the CSSOM, which a policy
// without 'unsafe-inline' allows); images and media may also be blob: URLs
// for previews of files about to be uploaded.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; " +
	"media-src 'self' blob:; connect-src 'self'; font-src 'self'; manifest-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Placeholders in index.html: the versioned assets prefix, and where the
// modulepreload links go.
const (
	assetsPlaceholder  = "%ASSETS%"
	preloadPlaceholder = "%PRELOAD%"
)

// Paths that a person may open or reload; each serves the page, whose
// script reads the path.
var pagePaths = []string{"/", "/login", "/channels/*", "/invite/{code}", "/settings"}

// Client serves the embedded client.
type Client struct {
	version string
	index   file
	assets  map[string]file // by path under static, e.g. "js/main.js"
}

type file struct {
	typ   string
	plain []byte
	gz    []byte // nil when compressing does not pay
	etag  string
}

// New reads the embedded files, computes the version and compresses what
// is worth it.
func New() (*Client, error) {
	c := &Client{assets: map[string]file{}}
	var names []string
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, p)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	sort.Strings(names)
	sum := sha256.New()
	raw := map[string][]byte{}
	for _, p := range names {
		b, err := static.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("web: %w", err)
		}
		rel := strings.TrimPrefix(p, "static/")
		raw[rel] = b
		fmt.Fprintf(sum, "%s\x00%d\x00", rel, len(b))
		sum.Write(b)
	}
	page, ok := raw["index.html"]
	if !ok {
		return nil, fmt.Errorf("web: static/index.html is missing")
	}
	delete(raw, "index.html")
	c.version = hex.EncodeToString(sum.Sum(nil))[:16]
	for rel, b := range raw {
		if c.assets[rel], err = newFile(rel, b); err != nil {
			return nil, err
		}
	}
	// Preloading every module lets the browser fetch them at once rather
	// than one level of imports after another.
	var preload strings.Builder
	for _, p := range names {
		if rel := strings.TrimPrefix(p, "static/"); strings.HasSuffix(rel, ".js") && rel != "js/main.js" {
			fmt.Fprintf(&preload, "<link rel=\"modulepreload\" href=\"%s/%s\">\n", assetsPlaceholder, rel)
		}
	}
	page = bytes.ReplaceAll(page, []byte(preloadPlaceholder), []byte(preload.String()))
	page = bytes.ReplaceAll(page, []byte(assetsPlaceholder), []byte(c.Prefix()))
	if c.index, err = newFile("index.html", page); err != nil {
		return nil, err
	}
	return c, nil
}

func newFile(name string, b []byte) (file, error) {
	typ := mime.TypeByExtension(path.Ext(name))
	if typ == "" {
		typ = "application/octet-stream"
	}
	h := sha256.Sum256(b)
	f := file{typ: typ, plain: b, etag: `"` + hex.EncodeToString(h[:8]) + `"`}
	if !compressible(typ) {
		return f, nil
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if _, err := zw.Write(b); err != nil {
		return file{}, fmt.Errorf("web: gzip %s: %w", name, err)
	}
	if err := zw.Close(); err != nil {
		return file{}, fmt.Errorf("web: gzip %s: %w", name, err)
	}
	if buf.Len() < len(b) {
		f.gz = buf.Bytes()
	}
	return f, nil
}

func compressible(typ string) bool {
	for _, p := range []string{"text/", "application/javascript", "application/json", "image/svg+xml", "application/manifest+json"} {
		if strings.HasPrefix(typ, p) {
			return true
		}
	}
	return false
}

// Version is the hash that names this build of the client.
func (c *Client) Version() string { return c.version }

// Prefix is the path the assets are served under.
func (c *Client) Prefix() string { return "/assets/" + c.version }

// Mount serves the page at the paths a person opens and the assets under
// Prefix.
func (c *Client) Mount(r chi.Router) {
	for _, p := range pagePaths {
		r.Get(p, c.page)
	}
	r.Get("/assets/{version}/*", c.asset)
}

func (c *Client) page(w http.ResponseWriter, r *http.Request) {
	// The page names the assets' version: it must be fetched anew each
	// time so that a new binary's client is picked up.
	w.Header().Set("Cache-Control", "no-cache")
	c.serve(w, r, c.index)
}

func (c *Client) asset(w http.ResponseWriter, r *http.Request) {
	f, ok := c.assets[chi.URLParam(r, "*")]
	if !ok || chi.URLParam(r, "version") != c.version {
		// An old version is gone with the binary that served it; the page
		// that asked for it reloads.
		w.Header().Set("Cache-Control", "no-store")
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	c.serve(w, r, f)
}

func (c *Client) serve(w http.ResponseWriter, r *http.Request, f file) {
	h := w.Header()
	h.Set("Content-Security-Policy", CSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Type", f.typ)
	body, etag := f.plain, f.etag
	if f.gz != nil {
		h.Set("Vary", "Accept-Encoding")
		if acceptsGzip(r) {
			h.Set("Content-Encoding", "gzip")
			// Each encoding is a representation of its own.
			body, etag = f.gz, strings.TrimSuffix(etag, `"`)+`-gz"`
		}
	}
	h.Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// acceptsGzip reads Accept-Encoding loosely: gzip listed and not refused
// with q=0.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") {
			return strings.ReplaceAll(params, " ", "") != "q=0"
		}
	}
	return false
}
