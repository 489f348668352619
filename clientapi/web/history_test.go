package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The goals for a long channel (issue 15): the first paint of a channel
// holding historyLen messages within firstPaintGoal on loopback, and
// scrolling through all of it with fewer than maxNodesGoal message nodes in
// the page at any time.
const (
	historyLen     = 10_000
	firstPaintGoal = time.Second
	maxNodesGoal   = 300
)

type historyFigures struct {
	FirstPaint time.Duration // from navigation to the newest messages drawn
	Seen       int           // distinct messages drawn while scrolling to the top
	MaxNodes   int           // most message nodes in the page at once
	Scroll     time.Duration // scrolling from the newest to the first message
}

// measureHistory seeds a channel with historyLen messages, opens it in a
// fresh tab and scrolls to its first message.
func measureHistory(tb testing.TB) historyFigures {
	url := startNode(tb)
	browser := newBrowser(tb)
	p := newPerson(tb, browser, url, "reader", desktop)
	p.register("correct horse battery")
	gid, cid := p.newGuild("archive")
	var token string
	p.eval(`JSON.parse(localStorage.getItem('concord.session')).token`, &token)
	seed(tb, url+"/api/v10/channels/"+cid+"/messages", token, historyLen)

	// A new tab, so nothing is cached in the page.
	q := newPerson(tb, browser, url, "reader", desktop)
	q.open("/login")
	q.eval(fmt.Sprintf(`localStorage.setItem('concord.session', %s)`, js(sessionOf(p))), nil)
	q.open("/channels/" + gid + "/" + cid)
	var paint float64
	q.eval(`new Promise((ok) => {
		const check = () => {
			const last = document.querySelector('.list .msg:last-child .text');
			if (last && last.textContent === 'message `+fmt.Sprint(historyLen-1)+`') ok(performance.now());
			else requestAnimationFrame(check);
		};
		check();
	})`, &paint)
	q.shot("newest")

	var got struct {
		Seen, Max int
		Ms        float64
	}
	q.evalLong(`(async () => {
		const s = document.querySelector('.scroller');
		const list = document.querySelector('.list');
		const seen = new Set();
		let max = 0;
		const note = () => {
			for (const n of list.children) seen.add(n.dataset.id);
			max = Math.max(max, list.querySelectorAll('.msg').length);
		};
		const mo = new MutationObserver(note);
		mo.observe(list, { childList: true });
		note();
		const t0 = performance.now();
		while (!document.querySelector('.welcome') && performance.now() - t0 < 120000) {
			s.scrollTop = 0;
			s.dispatchEvent(new Event('scroll'));
			await new Promise((ok) => setTimeout(ok, 16));
		}
		s.scrollTop = 0;
		await new Promise((ok) => setTimeout(ok, 50));
		note();
		mo.disconnect();
		return { Seen: seen.size, Max: max, Ms: performance.now() - t0 };
	})()`, &got)
	q.shot("oldest")
	q.clean()
	return historyFigures{
		FirstPaint: time.Duration(paint * float64(time.Millisecond)),
		Seen:       got.Seen,
		MaxNodes:   got.Max,
		Scroll:     time.Duration(got.Ms * float64(time.Millisecond)),
	}
}

func sessionOf(p *person) string {
	var s string
	p.eval(`localStorage.getItem('concord.session')`, &s)
	return s
}

// seed posts n messages "message 0" … "message n-1" over a few
// connections; the last alone, so that it is the newest.
func seed(tb testing.TB, url, token string, n int) {
	tb.Helper()
	const senders = 16
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: senders}}
	post := func(i int) error {
		req, _ := http.NewRequest("POST", url, strings.NewReader(fmt.Sprintf(`{"content":"message %d"}`, i)))
		req.Header.Set("Authorization", token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("message %d: status %d", i, resp.StatusCode)
		}
		return nil
	}
	var next atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	for range senders {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n-1 && failed.Load() == nil; i = int(next.Add(1)) - 1 {
				if err := post(i); err != nil {
					failed.Store(err)
				}
			}
		})
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		tb.Fatalf("seeding: %v", err)
	}
	if err := post(n - 1); err != nil {
		tb.Fatalf("seeding: %v", err)
	}
}

// TestLongChannel checks the goals for a channel of historyLen messages.
func TestLongChannel(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 10,000 messages")
	}
	f := measureHistory(t)
	t.Logf("first paint %v, scrolled %d messages in %v, at most %d message nodes", f.FirstPaint, f.Seen, f.Scroll, f.MaxNodes)
	if f.FirstPaint > firstPaintGoal {
		t.Errorf("first paint took %v, goal %v", f.FirstPaint, firstPaintGoal)
	}
	if f.Seen != historyLen {
		t.Errorf("scrolling to the top drew %d distinct messages, want all %d", f.Seen, historyLen)
	}
	if f.MaxNodes >= maxNodesGoal {
		t.Errorf("the page held %d message nodes at once, goal < %d", f.MaxNodes, maxNodesGoal)
	}
}

// BenchmarkLongChannel reports the figures for make bench (ns/op is the
// whole run: a node, 10,000 messages seeded, a browser scrolling them).
func BenchmarkLongChannel(b *testing.B) {
	var f historyFigures
	for range b.N {
		f = measureHistory(b)
	}
	b.ReportMetric(float64(f.FirstPaint)/float64(time.Millisecond), "first-paint-ms")
	b.ReportMetric(float64(f.MaxNodes), "max-message-nodes")
	b.ReportMetric(f.Scroll.Seconds(), "scroll-10k-s")
}
