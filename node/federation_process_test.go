package node

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"concord/storage"
	"concord/storage/storagetest"
)

// runNode runs the concord binary as node name with its own data dir
// and env on top of the defaults, and returns its URL; it stops the
// process with SIGTERM when the test ends.
func runNode(t *testing.T, bin, name string, env ...string) string {
	t.Helper()
	cmd := exec.Command(bin, "run", "--listen", "127.0.0.1:0", "--data-dir", t.TempDir())
	cmd.Env = append(append(os.Environ(), "CONCORD_LOG_LEVEL=warn", "CONCORD_NODE_NAME="+name,
		"CONCORD_FEDERATION_LISTEN=/ip4/127.0.0.1/tcp/0,/ip4/127.0.0.1/udp/0/quic-v1", "CONCORD_FEDERATION_MDNS=false",
		"CONCORD_LIMITS_API_PER_MINUTE=1000000"), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			t.Errorf("%s after SIGTERM: %v; stderr %s", name, err, stderr.String())
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "Concord is running: open ")
	if err != nil || !ok {
		t.Fatalf("%s: first line %q (%v); stderr %s", name, line, err, stderr.String())
	}
	return url
}

// TestProcessesFederate runs three concord processes with their own data
// dirs and configs, the second on PostgreSQL when the tests have it, each
// bootstrapped from the one before: a user of each joins the first's guild
// by its invite code and posts, all through the HTTP API. Then Alice on
// the first and the user of the third talk through discordgo, each
// connected to their own node, and each hears the other on the gateway.
func TestProcessesFederate(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildConcord(t)
	one := runNode(t, bin, "one")
	var pg []string
	if cfg, ok := storagetest.Backends(t)[storage.Postgres]; ok {
		pg = []string{"CONCORD_STORAGE_DRIVER=postgres", "CONCORD_STORAGE_DSN=" + cfg.DSN}
	}
	two := runNode(t, bin, "two", append(pg, "CONCORD_FEDERATION_BOOTSTRAP="+nodeCardOf(t, one).Addrs[0])...)
	three := runNode(t, bin, "three", "CONCORD_FEDERATION_BOOTSTRAP="+nodeCardOf(t, two).Addrs[0])
	chat := federatedChat(t, one, two, three)

	alice, user2 := discordgoOn(t, one, chat.alice), discordgoOn(t, three, chat.tokens[1])
	toUser2, toAlice := hear(t, user2), hear(t, alice)
	sent, err := alice.ChannelMessageSend(chat.channel, "hello three, from one")
	if err != nil {
		t.Fatal(err)
	}
	if m := awaitMessage(t, toUser2, sent.ID); m.Author.Username != "alice@one" || m.Content != sent.Content {
		t.Errorf("three's gateway shows %q by %s", m.Content, m.Author.Username)
	}
	reply, err := user2.ChannelMessageSendReply(chat.channel, "hello one", sent.Reference())
	if err != nil {
		t.Fatal(err)
	}
	if m := awaitMessage(t, toAlice, reply.ID); m.Author.Username != "user2@three" || m.MessageReference == nil ||
		m.MessageReference.MessageID != sent.ID {
		t.Errorf("one's gateway shows %q by %s, replying to %+v", m.Content, m.Author.Username, m.MessageReference)
	}
}

// hear opens s's gateway and returns the messages it is sent.
func hear(t *testing.T, s *discordgo.Session) chan *discordgo.Message {
	t.Helper()
	out := make(chan *discordgo.Message, 64)
	s.Identify.Intents = discordgo.IntentsGuildMessages | discordgo.IntentsMessageContent
	s.AddHandler(func(_ *discordgo.Session, m *discordgo.MessageCreate) {
		select {
		case out <- m.Message:
		default:
		}
	})
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return out
}

// awaitMessage waits up to 20 s for the message with this ID.
func awaitMessage(t *testing.T, from chan *discordgo.Message, id string) *discordgo.Message {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case m := <-from:
			if m.ID == id {
				return m
			}
		case <-deadline:
			t.Fatalf("message %s never arrived", id)
		}
	}
}
