package web_test

// The client's end-to-end tests run in real headless Chromium (Debian's
// package), driven over the DevTools protocol with chromedp, against a
// whole node started in-process. Screenshots go to screenshotDir.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"concord/node"
)

// screenshotDir is where the tests save what the browsers showed
// (gitignored; README.md names it). CONCORD_SCREENSHOTS moves it.
func screenshotDir() string {
	if d := os.Getenv("CONCORD_SCREENSHOTS"); d != "" {
		return d
	}
	return "screenshots"
}

// Viewports the tests look through.
var (
	desktop = [2]int64{1280, 800}
	phone   = [2]int64{390, 844}
)

// atEachWidth runs a flow as a subtest at a desktop's width, then at a
// phone's, where the sidebar is a drawer (narrow).
func atEachWidth(t *testing.T, flow func(t *testing.T, size [2]int64, narrow bool)) {
	for _, c := range []struct {
		name string
		size [2]int64
	}{{"desktop", desktop}, {"phone", phone}} {
		t.Run(c.name, func(t *testing.T) { flow(t, c.size, c.size == phone) })
	}
}

// chromium finds the browser; without one the tests skip, except in CI,
// which installs it.
func chromium(tb testing.TB) string {
	tb.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		tb.Fatal("chromium is not installed; .ci/run installs it")
	}
	tb.Skip("chromium is not installed (apt-get install chromium)")
	return ""
}

// startNode runs a node on a temp dir until the test ends, with limits
// raised so that the browsers' and the seeding's requests are not
// throttled, and returns its URL.
func startNode(tb testing.TB) string {
	tb.Helper()
	return startNodeWith(tb, nil)
}

// startNodeWith is startNode with the config changed by tweak.
func startNodeWith(tb testing.TB, tweak func(*node.Config)) string {
	tb.Helper()
	cfg := node.DefaultConfig()
	cfg.Node.DataDir = tb.TempDir()
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.Federation.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
	cfg.Federation.MDNS = false
	cfg.Limits.AuthPerMinute = 1000
	cfg.Limits.RegistrationsPerAddressPerDay = 1000
	cfg.Limits.APIPerMinute = 1 << 20
	cfg.Limits.ChannelMessagesPer10s = 1 << 20
	cfg.Limits.GatewayEventsPerMinute = 10000
	if tweak != nil {
		tweak(&cfg)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	n, err := node.New(context.Background(), cfg, log)
	if err != nil {
		tb.Fatalf("node.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("node.Run: %v", err)
		}
	})
	return n.URL()
}

// newBrowser starts Chromium for the test, with extra flags if given; each
// person gets a browser context of their own (separate storage), as two
// people on two machines.
func newBrowser(tb testing.TB, extra ...chromedp.ExecAllocatorOption) context.Context {
	tb.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(tb)),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("lang", "en-GB"),
		chromedp.Flag("font-render-hinting", "none"),
	)
	opts = append(opts, extra...)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	if err := chromedp.Do(ctx); err != nil {
		tb.Fatalf("start chromium: %v", err)
	}
	tb.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	return ctx
}

// person is one browser tab signed in as one user.
type person struct {
	tb   testing.TB
	name string
	ctx  context.Context
	url  string

	mu   sync.Mutex
	errs []string // uncaught exceptions and console errors
}

// recordViolations runs before the client's scripts in every page: it keeps
// the Content-Security-Policy violations the page meets, for the tests.
const recordViolations = `window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => __violations.push(e.violatedDirective + ' ' + e.blockedURI));`

func newPerson(tb testing.TB, browser context.Context, url, name string, size [2]int64) *person {
	tb.Helper()
	p := &person{tb: tb, name: name, url: url}
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext(), chromedp.WithListener(p.listen))
	tb.Cleanup(cancel)
	p.ctx = ctx
	// The first run opens the tab, which lives as long as that run's
	// context: it must have no deadline.
	if err := chromedp.Do(ctx); err != nil {
		tb.Fatalf("%s: open a tab: %v", name, err)
	}
	p.do(chromedp.EmulateViewport(size[0], size[1]), chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: recordViolations}); err != nil {
			return err
		}
		// Without animations a click lands where the element is at once.
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-reduced-motion", Value: "reduce"}}})
		return err
	}))
	return p
}

// before runs script in every page the person opens from now on, before
// the client's own scripts.
func (p *person) before(script string) {
	p.tb.Helper()
	p.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: script})
		return err
	}))
}

// do runs actions with a deadline, failing the test with what the page
// said when one fails.
func (p *person) do(steps ...chromedp.Action[chromedp.Void]) {
	p.tb.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.shot("failed")
		p.tb.Fatalf("%s: %v (page errors: %v)", p.name, err, p.errors())
	}
}

// eval runs JavaScript in the page and decodes its JSON value into out
// (which may be nil).
func (p *person) eval(js string, out any) {
	p.tb.Helper()
	p.evalFor(20*time.Second, js, out)
}

// evalLong is eval for scripts that take minutes.
func (p *person) evalLong(js string, out any) {
	p.tb.Helper()
	p.evalFor(3*time.Minute, js, out)
}

func (p *person) evalFor(d time.Duration, js string, out any) {
	p.tb.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, d)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[json.RawMessage](js, chromedp.EvalAwaitPromise))
	if err != nil {
		p.shot("failed")
		p.tb.Fatalf("%s: eval %q: %v (page errors: %v)", p.name, js, err, p.errors())
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			p.tb.Fatalf("%s: eval %q: %v", p.name, js, err)
		}
	}
}

// wait polls a JavaScript condition until it holds.
func (p *person) wait(cond string) {
	p.tb.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 15*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](cond, chromedp.WithPollingInterval(20*time.Millisecond))); err != nil {
		p.shot("failed")
		p.tb.Fatalf("%s: waiting for %s: %v (page errors: %v)", p.name, cond, err, p.errors())
	}
}

// shot saves a screenshot of the viewport as <test>-<person>-<name>.png.
func (p *person) shot(name string) {
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		p.tb.Logf("%s: screenshot %s: %v", p.name, name, err)
		return
	}
	dir := screenshotDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		p.tb.Logf("screenshots: %v", err)
		return
	}
	file := filepath.Join(dir, fmt.Sprintf("%s-%s-%s.png", strings.ReplaceAll(p.tb.Name(), "/", "-"), p.name, name))
	if err := os.WriteFile(file, png, 0o644); err != nil {
		p.tb.Logf("screenshots: %v", err)
	}
}

// open navigates and waits for the client's first screen.
func (p *person) open(path string) {
	p.tb.Helper()
	p.do(chromedp.Navigate(p.url + path))
	p.wait(`!document.getElementById('app').classList.contains('booting') || document.querySelector('form.auth')`)
}

// typeIn focuses a field and types text as keystrokes.
func (p *person) typeIn(sel, text string) {
	p.tb.Helper()
	p.do(chromedp.Focus(chromedp.CSS(sel)), chromedp.SendKeys(chromedp.CSS(sel), text))
}

// click clicks the element as a mouse does. Lists redraw as dispatches
// arrive, so a node found may be gone by the time it is clicked: then the
// click is tried again on the new one.
func (p *person) click(sel string) {
	p.tb.Helper()
	p.clickOn(sel, chromedp.Click(chromedp.CSS(sel)))
}

// clickX clicks the element an XPath finds, like click.
func (p *person) clickX(xpath string) {
	p.tb.Helper()
	p.clickOn(xpath, chromedp.Click(chromedp.Search(xpath)))
}

func (p *person) clickOn(sel string, click chromedp.Action[chromedp.Void]) {
	p.tb.Helper()
	for try := 0; ; try++ {
		ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
		err := chromedp.Do(ctx, click)
		cancel()
		if err == nil {
			return
		}
		if try == 2 || !strings.Contains(err.Error(), "Could not find node") {
			p.shot("failed")
			p.tb.Fatalf("%s: click %s: %v (page errors: %v)", p.name, sel, err, p.errors())
		}
	}
}

// register signs up through the login screen and waits for the app.
func (p *person) register(password string) {
	p.tb.Helper()
	p.open("/")
	p.click(`form.auth .switch button`)
	p.typeIn(`#f-username`, p.name)
	p.typeIn(`#f-password`, password)
	p.click(`form.auth button[type=submit]`)
	p.wait(`document.querySelector('.layout') && document.documentElement.dataset.connection === 'connected'`)
}

// send types a message into the composer and presses Enter.
func (p *person) send(text string) {
	p.tb.Helper()
	p.typeIn(`.composer textarea`, text)
	p.enter(`.composer textarea`)
}

// enter presses Enter in a field as a keyboard does when the page handles
// the key: chromedp's SendKeys also sends the key's text as a separate
// event, which a page cannot cancel.
func (p *person) enter(sel string) {
	p.tb.Helper()
	key := func(typ input.DispatchKeyEventType) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, input.DispatchKeyEvent, input.DispatchKeyEventParams{Type: typ, Key: "Enter", Code: "Enter",
				WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13})
			return err
		})
	}
	p.do(chromedp.Focus(chromedp.CSS(sel)), key(input.DispatchKeyEventTypeRawKeyDown), key(input.DispatchKeyEventTypeKeyUp))
}

// js quotes s as a JavaScript string literal.
func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// api calls the node's REST API from the page with the person's token, for
// setting things up quickly.
func (p *person) api(method, path string, body any, out any) {
	p.tb.Helper()
	b, _ := json.Marshal(body)
	p.eval(fmt.Sprintf(`(async () => {
		const s = JSON.parse(localStorage.getItem('concord.session'));
		const r = await fetch('/api/v10' + %s, {method: %s, headers: {Authorization: s.token, 'Content-Type': 'application/json'}, body: %s === 'GET' ? undefined : %s});
		if (!r.ok) throw new Error('HTTP ' + r.status + ' ' + await r.text());
		return r.status === 204 ? null : await r.json();
	})()`, js(path), js(method), js(method), js(string(b))), out)
}

// newGuild makes a guild of p's through the API; it returns its ID and
// its first channel's.
func (p *person) newGuild(name string) (guildID, channelID string) {
	p.tb.Helper()
	var g struct{ ID string }
	p.api("POST", "/guilds", map[string]any{"name": name}, &g)
	var chans []struct{ ID string }
	p.api("GET", "/guilds/"+g.ID+"/channels", nil, &chans)
	return g.ID, chans[0].ID
}

// invite makes an invite to a channel and returns its code.
func (p *person) invite(channelID string) string {
	p.tb.Helper()
	var inv struct{ Code string }
	p.api("POST", "/channels/"+channelID+"/invites", map[string]any{}, &inv)
	return inv.Code
}

// meet makes a guild of p's that the others join through the API; it
// returns the path of its first channel, and the guild's and channel's IDs.
func (p *person) meet(name string, others ...*person) (path, guildID, channelID string) {
	p.tb.Helper()
	guildID, channelID = p.newGuild(name)
	code := p.invite(channelID)
	for _, o := range others {
		o.api("POST", "/invites/"+code, nil, nil)
	}
	return "/channels/" + guildID + "/" + channelID, guildID, channelID
}

// listen records uncaught exceptions and console errors, so that a test can
// fail on any.
func (p *person) listen(ev any) {
	var msg string
	switch e := ev.(type) {
	case *runtime.EventExceptionThrown:
		msg = e.ExceptionDetails.Text
		if e.ExceptionDetails.Exception != nil {
			msg += " " + e.ExceptionDetails.Exception.Description
		}
	case *runtime.EventConsoleAPICalled:
		if e.Type != runtime.ConsoleAPICalledTypeError {
			return
		}
		for _, a := range e.Args {
			msg += string(a.Value) + a.Description + " "
		}
	default:
		return
	}
	p.mu.Lock()
	p.errs = append(p.errs, msg)
	p.mu.Unlock()
}

func (p *person) errors() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.errs...)
}

// clean fails the test if the page threw, logged errors, or met the
// Content-Security-Policy.
func (p *person) clean() {
	p.tb.Helper()
	if errs := p.errors(); len(errs) > 0 {
		p.tb.Errorf("%s: the page reported errors: %q", p.name, errs)
	}
	var v []string
	p.eval(`window.__violations || []`, &v)
	if len(v) > 0 {
		p.tb.Errorf("%s: Content-Security-Policy violations: %q", p.name, v)
	}
	// Everything one can press or type into has a name a screen reader
	// can say.
	var unnamed []string
	p.eval(`[...document.querySelectorAll('button, [role=button], [role=link], a[href], input:not([type=hidden]), textarea, select')]
		.filter((e) => e.offsetParent !== null)
		.filter((e) => !(e.getAttribute('aria-label') || e.textContent.trim() || e.title || (e.labels && e.labels.length) || e.placeholder || e.getAttribute('aria-hidden')))
		.map((e) => e.outerHTML.slice(0, 100))`, &unnamed)
	if len(unnamed) > 0 {
		p.tb.Errorf("%s: controls without an accessible name: %q", p.name, unnamed)
	}
}

// get fetches a path from the node outside the browser.
func get(tb testing.TB, url string, header http.Header) *http.Response {
	tb.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { resp.Body.Close() })
	return resp
}
