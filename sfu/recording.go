package sfu

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"concord/federation/guild"
	"concord/federation/perm"
	"concord/federation/snowflake"
	"concord/sfu/channel"
	"concord/sfu/record"
)

// Recording (spec/voice.md): POST /voice/recordings/{guild}/{channel}
// starts one (MANAGE_CHANNELS), DELETE there stops it and answers its
// manifest; GET /voice/recordings/{manifest key} and …/{n} read them
// back (VIEW_CHANNEL and CONNECT). Files and manifest go to the blob
// store.
const recordPrefix = "/voice/recordings/"

// recording is one running recording of a channel.
type recording struct {
	guild, channel snowflake.ID
	by             snowflake.ID
	started        time.Time
	ch             *channel.Channel
	member         *channel.Member
	rec            *record.Recorder
	dir            string
	row            int64 // in the recordings table (recording_rows.go)
}

// Manifest describes a finished recording; it is stored as JSON in the
// blob store, and its key names the recording.
type Manifest struct {
	GuildID   snowflake.ID   `json:"guild_id"`
	ChannelID snowflake.ID   `json:"channel_id"`
	StartedBy snowflake.ID   `json:"started_by"`
	Started   time.Time      `json:"started_at"`
	Ended     time.Time      `json:"ended_at"`
	Files     []ManifestFile `json:"files"`
}

// ManifestFile is one track's file.
type ManifestFile struct {
	UserID      snowflake.ID `json:"user_id"`
	Source      string       `json:"source"`
	ContentType string       `json:"content_type"`
	Key         string       `json:"key"`
	Size        int64        `json:"size"`
	Started     time.Time    `json:"started_at"`
}

func (s *SFU) serveRecordings(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, recordPrefix), "/")
	user, err := s.bearer(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	switch {
	case s.blobs == nil:
		http.Error(w, "recording is not enabled", http.StatusNotFound)
	case len(parts) == 2 && (r.Method == http.MethodPost || r.Method == http.MethodDelete):
		guildID, err1 := snowflake.Parse(parts[0])
		channelID, err2 := snowflake.Parse(parts[1])
		if err1 != nil || err2 != nil {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		if err := s.may(guildID, channelID, user, perm.ViewChannel|perm.Connect|perm.ManageChannels); err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		if r.Method == http.MethodPost {
			s.startRecording(r.Context(), w, guildID, channelID, user)
		} else {
			s.stopRecording(r.Context(), w, channelID)
		}
	case (len(parts) == 1 || len(parts) == 2) && r.Method == http.MethodGet:
		s.readRecording(w, r, user, parts)
	default:
		http.Error(w, "not found", http.StatusNotFound)
	}
}

// bearer authenticates a request's bearer token.
func (s *SFU) bearer(r *http.Request) (snowflake.ID, error) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || s.auth == nil {
		return 0, errors.New("a bearer token is required")
	}
	user, err := s.auth(r.Context(), token)
	if err != nil {
		return 0, errors.New("invalid token")
	}
	return user, nil
}

// may checks that user has bits in a voice channel.
func (s *SFU) may(guildID, channelID, user snowflake.ID, bits perm.Bits) error {
	return s.guilds.View(context.Background(), guildID, func(st *guild.State) error {
		ch := st.Channels[channelID]
		if ch == nil || ch.Type != guild.ChannelVoice {
			return errNotVoice
		}
		if !st.Permissions(user, channelID, time.Now().UnixMilli()).Has(bits) {
			return fmt.Errorf("missing permissions %s", bits)
		}
		return nil
	})
}

func (s *SFU) startRecording(ctx context.Context, w http.ResponseWriter, guildID, channelID, user snowflake.ID) {
	dir, err := os.MkdirTemp(s.cfg.RecordDir, "recording-")
	if err != nil {
		s.log.Error("sfu: recording dir", "err", err)
		http.Error(w, "cannot record", http.StatusServiceUnavailable)
		return
	}
	rec := &recording{guild: guildID, channel: channelID, by: user, started: time.Now(), rec: record.New(dir), dir: dir}
	rec.member = &channel.Member{UserID: uint64(user), Receiver: rec.rec}
	// The row comes first: once rec is in s.recordings a stop may take it.
	if err := s.startRow(ctx, rec); err != nil {
		os.RemoveAll(dir)
		s.log.Error("sfu: record a recording's start", "err", err)
		http.Error(w, "cannot record", http.StatusServiceUnavailable)
		return
	}
	s.mu.Lock()
	busy := s.recordings[channelID] != nil
	if !busy {
		s.recordings[channelID] = rec
	}
	s.mu.Unlock()
	if busy {
		os.RemoveAll(dir)
		if err := s.dropRow(ctx, rec); err != nil {
			s.log.Error("sfu: forget a recording that never started", "err", err)
		}
		http.Error(w, "the channel is already being recorded", http.StatusConflict)
		return
	}
	rec.ch = s.channel(rec.guild, channelID)
	rec.ch.Record(rec.member)
	w.WriteHeader(http.StatusCreated)
}

func (s *SFU) stopRecording(ctx context.Context, w http.ResponseWriter, channelID snowflake.ID) {
	s.mu.Lock()
	rec := s.recordings[channelID]
	delete(s.recordings, channelID)
	s.mu.Unlock()
	if rec == nil {
		http.Error(w, "the channel is not being recorded", http.StatusNotFound)
		return
	}
	m, key, err := s.finish(ctx, rec)
	if err != nil {
		s.log.Error("sfu: store recording", "err", err)
		http.Error(w, "cannot store the recording", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(struct {
		ID string `json:"id"`
		*Manifest
	}{key, m})
}

// finish stops a recording, stores its files and manifest in the blob
// store and returns the manifest and its key. A recording that cannot be
// stored is forgotten, and what of it was stored is left to the sweep.
func (s *SFU) finish(ctx context.Context, rec *recording) (*Manifest, string, error) {
	rec.ch.Leave(rec.member)
	s.release(rec.channel, rec.ch)
	files := rec.rec.Close()
	defer os.RemoveAll(rec.dir)
	m, key, err := s.store(ctx, rec, files)
	if err != nil {
		return nil, "", errors.Join(err, s.dropRow(context.WithoutCancel(ctx), rec))
	}
	return m, key, nil
}

// store puts rec's files and then its manifest in the blob store, each
// owned by rec's row before it is stored, and records the end.
func (s *SFU) store(ctx context.Context, rec *recording, files []record.File) (*Manifest, string, error) {
	m := &Manifest{GuildID: rec.guild, ChannelID: rec.channel, StartedBy: rec.by, Started: rec.started, Ended: time.Now(),
		Files: []ManifestFile{}}
	for _, f := range files {
		key, size, err := s.storeFile(ctx, rec, f.Path, f.ContentType)
		if err != nil {
			return nil, "", err
		}
		m.Files = append(m.Files, ManifestFile{UserID: snowflake.ID(f.Owner), Source: string(f.Source),
			ContentType: f.ContentType, Key: key, Size: size, Started: f.Started})
	}
	data, _ := json.Marshal(m) // plain data always marshals
	key := hashOf(data)
	if err := s.ownBlob(ctx, rec, key, int64(len(data))); err != nil {
		return nil, "", err
	}
	if err := s.blobs.Put(ctx, key, strings.NewReader(string(data)), int64(len(data)), "application/json"); err != nil {
		return nil, "", err
	}
	if err := s.endRow(ctx, rec, m.Ended, key); err != nil {
		return nil, "", err
	}
	return m, key, nil
}

// storeFile puts a file in the blob store under its content address,
// owned by rec.
func (s *SFU) storeFile(ctx context.Context, rec *recording, path, contentType string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	size, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	key := hex.EncodeToString(h.Sum(nil))
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", 0, err
	}
	if err := s.ownBlob(ctx, rec, key, size); err != nil {
		return "", 0, err
	}
	return key, size, s.blobs.Put(ctx, key, f, size, contentType)
}

func hashOf(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// readRecording answers a manifest, or (with n) its n-th file, to someone
// who may connect to the recorded channel.
func (s *SFU) readRecording(w http.ResponseWriter, r *http.Request, user snowflake.ID, parts []string) {
	rc, _, err := s.blobs.Get(r.Context(), parts[0])
	if err != nil {
		http.Error(w, "no such recording", http.StatusNotFound)
		return
	}
	var m Manifest
	err = json.NewDecoder(io.LimitReader(rc, 1<<20)).Decode(&m)
	rc.Close()
	if err != nil || m.ChannelID == 0 {
		http.Error(w, "no such recording", http.StatusNotFound)
		return
	}
	if err := s.may(m.GuildID, m.ChannelID, user, perm.ViewChannel|perm.Connect); err != nil {
		http.Error(w, "no such recording", http.StatusNotFound)
		return
	}
	if len(parts) == 1 {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(m)
		return
	}
	n, err := strconv.Atoi(parts[1])
	if err != nil || n < 0 || n >= len(m.Files) {
		http.Error(w, "no such file", http.StatusNotFound)
		return
	}
	f, info, err := s.blobs.Get(r.Context(), m.Files[n].Key)
	if err != nil {
		http.Error(w, "no such file", http.StatusNotFound)
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", info.ContentType)
	http.ServeContent(w, r, "", info.ModTime, f)
}
