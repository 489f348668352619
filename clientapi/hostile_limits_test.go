package clientapi

import (
	"fmt"
	"io"
	"mime/multipart"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"concord/federation/snowflake"
	"concord/storage"
	"concord/storage/storagetest"
)

// fieldFlood streams a multipart body of n bytes of small text fields and
// no file, generated as it is sent so that the client holds none of it.
func fieldFlood(n int) (contentType string, body io.Reader) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		chunk := strings.Repeat("x", 60<<10)
		for sent := 0; sent < n; sent += len(chunk) {
			if err := mw.WriteField(fmt.Sprintf("f%d", sent), chunk); err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		mw.Close()
		pw.Close()
	}()
	return mw.FormDataContentType(), pr
}

// floodHeapBound is what eight parallel 26 MB field-only sends may add to
// the heap at their peak: the fields of a form are capped at 1 MiB, so
// this is that and the buffers around it, eight times over, with room.
const floodHeapBound = 64 << 20

// Field-only multipart sends are cut off after 1 MiB of fields: eight
// users sending 26 MB each at once leave the heap within floodHeapBound,
// and each is refused with 413.
func TestMultipartFieldFlood(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		h := newHarness(t, db)
		owner := h.register("vera")
		_, ch := h.ownGuild(owner, "flooded")
		channel, _ := snowflake.Parse(ch)
		var senders []string
		for i := range 8 {
			p := h.register(fmt.Sprintf("flood%d", i))
			var inv struct{ Code string }
			if i == 0 {
				st, b := h.do("POST", "/channels/"+ch+"/invites", owner.Token, map[string]any{})
				h.want(st, 200, b, &inv)
				senders = append(senders, inv.Code)
			}
			st, b := h.do("POST", "/invites/"+senders[0], p.Token, nil)
			h.want(st, 200, b, nil)
			senders = append(senders, p.Token)
		}
		senders = senders[1:]

		runtime.GC()
		var base runtime.MemStats
		runtime.ReadMemStats(&base)
		var peak atomic.Uint64
		stop := make(chan struct{})
		sampled := make(chan struct{})
		go func() {
			defer close(sampled)
			var m runtime.MemStats
			for {
				select {
				case <-stop:
					return
				case <-time.After(5 * time.Millisecond):
				}
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peak.Load() {
					peak.Store(m.HeapInuse)
				}
			}
		}()
		var wg sync.WaitGroup
		statuses := make([]int, len(senders))
		for i, tok := range senders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ct, body := fieldFlood(26 << 20)
				statuses[i], _ = h.upload(tok, channel, ct, body)
			}()
		}
		wg.Wait()
		close(stop)
		<-sampled
		if grew := int64(peak.Load()) - int64(base.HeapInuse); grew > floodHeapBound {
			t.Errorf("the heap grew by %d MiB during the flood, bound %d MiB", grew>>20, floodHeapBound>>20)
		}
		for i, st := range statuses {
			if st != 413 && st != 0 { // 0: the server closed the connection mid-body
				t.Errorf("sender %d: %d, want 413", i, st)
			}
		}
	})
}
