package room_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"concord/federation/guild"
	"concord/federation/snowflake"
	"concord/storage"
	"concord/storage/storagetest"
)

// The kill test's child: rebuilds a guild over and over until killed.
const (
	envRebuildDriver = "CONCORD_REBUILD_DRIVER"
	envRebuildDSN    = "CONCORD_REBUILD_DSN"
	envRebuildGuild  = "CONCORD_REBUILD_GUILD"
)

// TestRebuildChild is the process TestRebuildKilled kills; alone it does
// nothing.
func TestRebuildChild(t *testing.T) {
	driver := os.Getenv(envRebuildDriver)
	if driver == "" {
		t.Skip("run by TestRebuildKilled")
	}
	gid, _ := strconv.ParseUint(os.Getenv(envRebuildGuild), 10, 64)
	db, err := storage.Open(context.Background(), storage.Config{Driver: driver, DSN: os.Getenv(envRebuildDSN)})
	if err != nil {
		t.Fatal(err)
	}
	core := newCore(t, db, newKey(t))
	fmt.Println("rebuilding")
	for {
		if err := core.Rebuild(context.Background(), snowflake.ID(gid)); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRebuildKilled kills a process that is rebuilding a guild (kill -9)
// at random moments: every time the log is whole and the projections are
// what they were, never half made.
func TestRebuildKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	for name, cfg := range storagetest.Backends(t) {
		t.Run(name, func(t *testing.T) {
			db := storagetest.Open(t, cfg)
			f := newFixture(t, db)
			busyGuild(t, f, true, true)
			for i := range 300 {
				f.send(f.owner, guild.TypeMessageCreate, guild.MessageCreate{ID: f.core.NewID(), ChannelID: f.text, Content: fmt.Sprint("filler ", i)})
			}
			want := dump(t, db, f.guild)
			rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
			for round := range 8 {
				cmd := exec.Command(os.Args[0], "-test.run=^TestRebuildChild$", "-test.count=1")
				cmd.Env = append(os.Environ(), envRebuildDriver+"="+cfg.Driver, envRebuildDSN+"="+cfg.DSN,
					envRebuildGuild+"="+f.guild.String())
				out, err := cmd.StdoutPipe()
				if err != nil {
					t.Fatal(err)
				}
				cmd.Stderr = os.Stderr
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "rebuilding\n" {
					cmd.Process.Kill()
					cmd.Wait()
					t.Fatalf("child said %q, %v", line, err)
				}
				time.Sleep(time.Duration(rng.IntN(400)) * time.Millisecond)
				cmd.Process.Kill() // SIGKILL: no deferred cleanup runs
				cmd.Wait()
				if d := diffDumps(want, dump(t, db, f.guild)); d != "" {
					t.Fatalf("round %d: killed rebuild left:\n%s", round, d)
				}
			}
		})
	}
}
