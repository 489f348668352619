package web_test

import (
	"compress/gzip"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"concord/clientapi/web"
)

func serve(t testing.TB) (*web.Client, *httptest.Server) {
	t.Helper()
	c, err := web.New()
	if err != nil {
		t.Fatal(err)
	}
	r := chi.NewRouter()
	c.Mount(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return c, srv
}

func fetch(t *testing.T, url string, header http.Header) (*http.Response, string) {
	t.Helper()
	resp := get(t, url, header)
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

// TestPage is the page at every path a person opens: never cached, with
// the policy, naming the assets of this build.
func TestPage(t *testing.T) {
	c, srv := serve(t)
	for _, path := range []string{"/", "/login", "/channels/@me", "/channels/1/2", "/invite/abcDEF12", "/settings"} {
		resp, body := fetch(t, srv.URL+path, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
		for k, want := range map[string]string{
			"Content-Type":            "text/html; charset=utf-8",
			"Cache-Control":           "no-cache",
			"Content-Security-Policy": web.CSP,
			"X-Content-Type-Options":  "nosniff",
		} {
			if got := resp.Header.Get(k); got != want {
				t.Errorf("GET %s: %s = %q, want %q", path, k, got, want)
			}
		}
		if !strings.Contains(body, c.Prefix()+"/js/main.js") || strings.Contains(body, "%ASSETS%") {
			t.Errorf("GET %s: the page does not name the assets of version %s:\n%s", path, c.Version(), body)
		}
	}
	if resp, _ := fetch(t, srv.URL+"/nothing-here", nil); resp.StatusCode != 404 {
		t.Errorf("GET /nothing-here: %d, want 404", resp.StatusCode)
	}
}

// TestCSPForbidsInlineScript keeps the policy strict: scripts only from
// the node, nothing inline or evaluated, nothing by default (so no
// plugins), no framing.
func TestCSPForbidsInlineScript(t *testing.T) {
	for _, bad := range []string{"'unsafe-inline'", "'unsafe-eval'", "*", "http:", "https:"} {
		for _, d := range strings.Split(web.CSP, ";") {
			if strings.Contains(strings.Fields(d + " x")[0], "src") && strings.Contains(d, " "+bad) {
				t.Errorf("CSP directive %q allows %s", strings.TrimSpace(d), bad)
			}
		}
	}
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "frame-ancestors 'none'", "base-uri 'none'"} {
		if !strings.Contains(web.CSP, want) {
			t.Errorf("CSP lacks %q", want)
		}
	}
}

// TestAssets are cached for a year under the build's version, gzipped for
// clients that take it, and gone under any other version.
func TestAssets(t *testing.T) {
	c, srv := serve(t)
	url := srv.URL + c.Prefix() + "/js/main.js"
	resp, plain := fetch(t, url, http.Header{"Accept-Encoding": {"identity"}})
	if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" ||
		resp.Header.Get("Content-Encoding") != "" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") {
		t.Fatalf("GET main.js: %d %v", resp.StatusCode, resp.Header)
	}
	tr := &http.Transport{DisableCompression: true}
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Accept-Encoding", "gzip, br")
	zresp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer zresp.Body.Close()
	if zresp.Header.Get("Content-Encoding") != "gzip" || zresp.Header.Get("Vary") != "Accept-Encoding" {
		t.Fatalf("gzip not served: %v", zresp.Header)
	}
	zr, err := gzip.NewReader(zresp.Body)
	if err != nil {
		t.Fatal(err)
	}
	unzipped, _ := io.ReadAll(zr)
	if string(unzipped) != plain {
		t.Error("gzipped main.js differs from the plain one")
	}
	etag := resp.Header.Get("ETag")
	if r := get(t, url, http.Header{"If-None-Match": {etag}, "Accept-Encoding": {"identity"}}); r.StatusCode != 304 {
		t.Errorf("If-None-Match %s: %d, want 304", etag, r.StatusCode)
	}
	for _, bad := range []string{"/assets/0123456789abcdef/js/main.js", c.Prefix() + "/js/nope.js", c.Prefix() + "/index.html"} {
		if r := get(t, srv.URL+bad, nil); r.StatusCode != 404 {
			t.Errorf("GET %s: %d, want 404", bad, r.StatusCode)
		}
	}
}

// TestBudget keeps the shipped JavaScript under 300 KiB uncompressed.
func TestBudget(t *testing.T) {
	const budget = 300 << 10
	total := 0
	err := filepath.WalkDir("static", func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".js") {
			info, _ := d.Info()
			total += int(info.Size())
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("shipped JavaScript: %d bytes (%.1f KiB)", total, float64(total)/1024)
	if total > budget {
		t.Errorf("shipped JavaScript is %d bytes, over the %d budget", total, budget)
	}
}

// TestModules checks that every module a module imports exists, and that
// no module builds markup from strings: user text must stay text nodes.
func TestModules(t *testing.T) {
	imp := regexp.MustCompile(`(?m)^import .* from '(\./[\w.-]+)';$`)
	forbidden := regexp.MustCompile(`innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|setAttribute\('style'|\.style\.cssText`)
	files, err := filepath.Glob("static/js/*.js")
	if err != nil || len(files) == 0 {
		t.Fatalf("no modules: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range imp.FindAllStringSubmatch(string(b), -1) {
			if _, err := os.Stat(filepath.Join("static/js", m[1])); err != nil {
				t.Errorf("%s imports %s, which does not exist", f, m[1])
			}
		}
		if loc := forbidden.FindIndex(b); loc != nil {
			t.Errorf("%s uses %q: build elements with dom.js's h and text nodes", f, b[loc[0]:loc[1]])
		}
	}
}

// BenchmarkAssets fetches every module of the client gzipped, as a first
// visit does, and reports the shipped JavaScript's size plain (the budget
// is 300 KiB) and as served, for make bench.
func BenchmarkAssets(b *testing.B) {
	c, srv := serve(b)
	var names []string
	plain := 0
	err := filepath.WalkDir("static/js", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			info, _ := d.Info()
			plain += int(info.Size())
			names = append(names, strings.TrimPrefix(p, "static/"))
		}
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	tr := &http.Transport{DisableCompression: true}
	served := int64(0)
	for b.Loop() {
		served = 0
		for _, n := range names {
			req, _ := http.NewRequest("GET", srv.URL+c.Prefix()+"/"+n, nil)
			req.Header.Set("Accept-Encoding", "gzip")
			resp, err := tr.RoundTrip(req)
			if err != nil {
				b.Fatal(err)
			}
			got, _ := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			served += got
		}
	}
	b.ReportMetric(float64(plain), "js-bytes")
	b.ReportMetric(float64(served), "js-gzip-bytes")
}
