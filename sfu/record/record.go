// Package record writes the tracks of a voice channel to files: Opus
// audio as Ogg, VP8 and VP9 video as IVF, H.264 as an Annex B stream. A
// Recorder is one more kind of channel member (a channel.Receiver whose
// tracks are media.Sinks): forwarding knows nothing of it. Only the sfu
// packages import it.
package record

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media/h264writer"
	"github.com/pion/webrtc/v4/pkg/media/ivfwriter"
	"github.com/pion/webrtc/v4/pkg/media/oggwriter"

	"concord/sfu/media"
)

// File is one track's recording.
type File struct {
	Path        string
	Owner       uint64
	Source      media.Source
	ContentType string
	Started     time.Time
	Packets     int
}

// Recorder writes every track it is given to its own file in a directory.
type Recorder struct {
	dir string

	mu     sync.Mutex
	open   map[media.Track]*writer
	done   []File
	closed bool
}

// New returns a Recorder writing under dir, which must exist.
func New(dir string) *Recorder { return &Recorder{dir: dir, open: map[media.Track]*writer{}} }

// ErrCodec is returned for a track whose codec cannot be recorded.
var ErrCodec = errors.New("record: codec not recordable")

// Add starts recording t.
func (r *Recorder) Add(t media.Track) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || r.open[t] != nil {
		return nil
	}
	info := t.Info()
	w := &writer{file: File{Owner: info.Owner, Source: info.Source, Started: time.Now()}}
	mime := strings.ToLower(info.Codec.MimeType)
	name := fmt.Sprintf("%d-%s-%d", info.Owner, info.Source, len(r.done)+len(r.open))
	var err error
	switch mime {
	case "audio/opus":
		w.file.Path, w.file.ContentType = filepath.Join(r.dir, name+".ogg"), "audio/ogg"
		w.out, err = oggwriter.New(w.file.Path, info.Codec.ClockRate, max(info.Codec.Channels, 1))
	case "video/vp8", "video/vp9":
		codec := webrtc.MimeTypeVP8
		if mime == "video/vp9" {
			codec = webrtc.MimeTypeVP9
		}
		w.file.Path, w.file.ContentType = filepath.Join(r.dir, name+".ivf"), "video/x-ivf"
		w.out, err = ivfwriter.New(w.file.Path, ivfwriter.WithCodec(codec))
	case "video/h264":
		w.file.Path, w.file.ContentType = filepath.Join(r.dir, name+".h264"), "video/h264"
		w.out, err = h264writer.New(w.file.Path)
	default:
		return fmt.Errorf("%w: %s", ErrCodec, info.Codec.MimeType)
	}
	if err != nil {
		return fmt.Errorf("record %s: %w", info.ID, err)
	}
	r.open[t] = w
	t.Subscribe(w)
	return nil
}

// Remove stops recording t; its file is complete.
func (r *Recorder) Remove(t media.Track) {
	r.mu.Lock()
	w := r.open[t]
	delete(r.open, t)
	r.mu.Unlock()
	if w != nil {
		t.Unsubscribe(w)
		r.finish(w)
	}
}

func (r *Recorder) finish(w *writer) {
	w.mu.Lock()
	err := w.out.Close()
	f := w.file
	w.mu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil || f.Packets == 0 {
		os.Remove(f.Path)
		return
	}
	r.done = append(r.done, f)
}

// Close stops recording and lists the files written, in the order their
// tracks ended. Tracks that sent nothing leave no file.
func (r *Recorder) Close() []File {
	r.mu.Lock()
	r.closed = true
	open := r.open
	r.open = nil
	r.mu.Unlock()
	for t, w := range open {
		t.Unsubscribe(w)
		r.finish(w)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.done
}

// writer is one track's file, and the track's sink.
type writer struct {
	mu  sync.Mutex
	out interface {
		WriteRTP(*rtp.Packet) error
		Close() error
	}
	file File
	pkt  rtp.Packet
}

// Write appends a packet; the writer keeps nothing of it.
func (w *writer) Write(p *media.Packet) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pkt.Header = p.Header
	w.pkt.Header.Extension, w.pkt.Header.Extensions = false, nil
	w.pkt.Payload = p.Payload
	w.file.Packets++
	return w.out.WriteRTP(&w.pkt)
}

// Bitrate is unlimited: a recording takes the best layer.
func (w *writer) Bitrate() uint64 { return 0 }
