package sfu

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"

	"concord/storage"
	"concord/storage/blob"
	"concord/storage/storagetest"
)

func request(t *testing.T, method, url, token string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestRecordingParses(t *testing.T) {
	r := newRig(t, 3, nil)
	a := r.connect(t, 2, testVoice)
	cam := a.addVideo("camera", []int{300_000})
	a.negotiate()
	b := r.connect(t, 3, testVoice)
	cam.run()
	defer cam.close()
	waitFor(t, "b sees a's camera", 5*time.Second, func() bool { return len(b.got(2, "camera")) > 5 })

	url := r.http + recordPrefix + testGuild.String() + "/" + testVoice.String()
	if resp := request(t, http.MethodPost, url, "token-3"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a member without MANAGE_CHANNELS started a recording: %s", resp.Status)
	}
	if resp := request(t, http.MethodPost, url, "token-1"); resp.StatusCode != http.StatusCreated {
		t.Fatalf("start: %s", resp.Status)
	}
	for _, c := range []*client{a, b} {
		waitFor(t, "told of the recording", 2*time.Second, func() bool { return len(c.ops(opRecording)) == 1 })
	}
	go b.speak("b", 50, 30)
	a.speak("a", 50, 30)
	resp := request(t, http.MethodDelete, url, "token-1")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("stop: %s", resp.Status)
	}
	var m struct {
		ID string `json:"id"`
		Manifest
	}
	json.NewDecoder(resp.Body).Decode(&m)
	resp.Body.Close()
	waitFor(t, "told it stopped", 2*time.Second, func() bool { return len(a.ops(opRecording)) == 2 })
	if len(m.Files) != 3 {
		t.Fatalf("recorded %d files, want a's audio and camera and b's audio: %+v", len(m.Files), m.Files)
	}
	keys := []string{m.ID}
	for _, f := range m.Files {
		keys = append(keys, f.Key)
	}
	if used, err := r.db.BlobsInUse(t.Context(), keys); err != nil || len(used) != len(keys) {
		t.Fatalf("the recording owns %v of %v (%v)", used, keys, err)
	}
	for i, f := range m.Files {
		resp := request(t, http.MethodGet, r.http+recordPrefix+m.ID+"/"+strconv.Itoa(i), "token-3")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("file %d: %s", i, resp.Status)
		}
		switch f.ContentType {
		case "audio/ogg":
			pages := countOgg(t, resp.Body)
			if pages < 20 {
				t.Errorf("%s's audio: %d Ogg pages", f.UserID, pages)
			}
		case "video/x-ivf":
			frames := countIVF(t, resp.Body)
			if frames < 5 {
				t.Errorf("camera: %d IVF frames", frames)
			}
		default:
			t.Errorf("file %d is %s", i, f.ContentType)
		}
		resp.Body.Close()
	}
	if resp := request(t, http.MethodGet, r.http+recordPrefix+m.ID, "token-9"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a stranger read the manifest: %s", resp.Status)
	}
}

func countOgg(t *testing.T, r io.Reader) int {
	o, _, err := oggreader.NewWith(r)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		if _, _, err := o.ParseNextPage(); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatal(err)
			}
			return n
		}
		n++
	}
}

func countIVF(t *testing.T, r io.Reader) int {
	v, _, err := ivfreader.NewWith(r)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		if _, _, err := v.ParseNextFrame(); err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatal(err)
			}
			return n
		}
		n++
	}
}

// A recording's row owns its blobs from start to end: a sweep keeps them
// while the row exists and takes them once it is gone.
func TestRecordingRows(t *testing.T) {
	for name, db := range storagetest.Backends(t) {
		t.Run(name, func(t *testing.T) {
			r := newRigOn(t, 1, nil, db, nil)
			url := r.http + recordPrefix + testGuild.String() + "/" + testVoice.String()
			if resp := request(t, http.MethodPost, url, "token-1"); resp.StatusCode != http.StatusCreated {
				t.Fatalf("start: %s", resp.Status)
			}
			if resp := request(t, http.MethodPost, url, "token-1"); resp.StatusCode != http.StatusConflict {
				t.Fatalf("second start: %s", resp.Status)
			}
			var running int
			r.db.Reader().QueryRowContext(t.Context(), `SELECT COUNT(*) FROM recordings`).Scan(&running)
			if running != 1 {
				t.Fatalf("%d recordings in the database, want the one running", running)
			}
			resp := request(t, http.MethodDelete, url, "token-1")
			var m struct {
				ID string `json:"id"`
			}
			json.NewDecoder(resp.Body).Decode(&m)
			resp.Body.Close()
			var manifest string
			if err := r.db.Reader().QueryRowContext(t.Context(), `SELECT manifest FROM recordings WHERE ended_at IS NOT NULL`).Scan(&manifest); err != nil || manifest != m.ID {
				t.Fatalf("ended recording's manifest %q, %v; answered %q", manifest, err, m.ID)
			}

			gc := blob.NewCollector(r.blobs)
			later := time.Now().Add(time.Hour)
			if _, err := gc.Sweep(t.Context(), r.db.BlobsInUse, later); err != nil {
				t.Fatal(err)
			}
			if resp := request(t, http.MethodGet, r.http+recordPrefix+m.ID, "token-1"); resp.StatusCode != http.StatusOK {
				t.Fatalf("the sweep took a recording that has its row: %s", resp.Status)
			}
			if err := r.db.Write(t.Context(), func(q storage.Querier) error {
				_, err := q.ExecContext(t.Context(), `DELETE FROM recordings`)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			if got, err := gc.Sweep(t.Context(), r.db.BlobsInUse, later); err != nil || got.Deleted != 1 {
				t.Fatalf("sweep after the row went: %+v, %v", got, err)
			}
		})
	}
}
