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
