package room_test

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"

	"concord/federation/guild"
	"concord/federation/room"
	"concord/storage"
	"concord/storage/storagetest"
)

// gatedStore holds commits while gated, telling when one is waiting.
type gatedStore struct {
	*storage.DB
	gated   atomic.Bool
	waiting chan struct{}
	release chan struct{}
}

func (g *gatedStore) Pipeline(ctx context.Context, fn func(q room.Querier) error) error {
	if g.gated.Load() {
		g.waiting <- struct{}{}
		<-g.release
	}
	return g.DB.Pipeline(ctx, fn)
}

// View shows what is stored, never an event staged whose batch has not
// committed yet.
func TestViewSeesOnlyCommitted(t *testing.T) {
	db := storagetest.Open(t, storage.Config{Driver: storage.SQLite, DSN: filepath.Join(t.TempDir(), "c.db")})
	gs := &gatedStore{DB: db, waiting: make(chan struct{}), release: make(chan struct{})}
	core := newCore(t, gs, newKey(t))
	ctx := context.Background()
	gid, owner, ch := core.NewID(), core.NewID(), core.NewID()
	if _, err := core.Send(ctx, gid, owner, guild.TypeGuildCreate, guild.GuildCreate{ID: gid, Kind: guild.KindGuild, Name: "gated"}); err != nil {
		t.Fatal(err)
	}
	seen := func() (bool, string) {
		var has bool
		var name string
		if err := core.View(ctx, gid, func(s *guild.State) error {
			has, name = s.Channels[ch] != nil, s.Name
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return has, name
	}

	gs.gated.Store(true)
	name, newName := "held", "renamed"
	done := make(chan error, 1)
	go func() {
		_, err := core.SendAll(ctx, gid, owner, []room.Local{
			{Type: guild.TypeChannelCreate, Content: guild.ChannelCreate{ID: ch, Type: guild.ChannelText, ChannelFields: guild.ChannelFields{Name: &name}}},
			{Type: guild.TypeGuildUpdate, Content: guild.GuildUpdate{Name: &newName}},
		})
		done <- err
	}()
	<-gs.waiting
	if has, n := seen(); has || n != "gated" {
		t.Errorf("before the commit View shows channel %v, name %q", has, n)
	}
	// A dry run answers for the state the next event meets, staged events
	// included: the channel is there for it.
	if err := core.Check(ctx, gid, owner, guild.TypeChannelCreate, guild.ChannelCreate{ID: ch, Type: guild.ChannelText,
		ChannelFields: guild.ChannelFields{Name: &name}}); !isReason(guild.ReasonIDInUse)(err) {
		t.Errorf("Check while held = %v, want id_in_use", err)
	}
	gs.gated.Store(false)
	close(gs.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if has, n := seen(); !has || n != newName {
		t.Errorf("after the commit View shows channel %v, name %q", has, n)
	}
}
