package node

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// operator runs `concord args…` in-process with stdin.
func operator(t *testing.T, stdin string, args ...string) (string, string) {
	t.Helper()
	var out, errOut syncBuffer
	c := command{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errOut, lookupEnv: envMap(nil)}
	if code := c.main(t.Context(), args); code != 0 {
		t.Fatalf("concord %s: exit %d\n%s", strings.Join(args, " "), code, errOut.String())
	}
	return out.String(), errOut.String()
}

// The operator's account commands work on a stopped node's data and on a
// running node's: an account made before start logs in, a token lets
// someone register where registration is by invite, and disabling,
// resetting and deleting take effect on the running node.
func TestOperatorCommands(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "node.toml")
	text := fmt.Sprintf("[node]\ndata_dir = %q\nregistration = \"invite\"\n[http]\nlisten = \"127.0.0.1:0\"\n[limits]\nauth_per_minute = 100\n[log]\nlevel = \"warn\"\n",
		filepath.Join(dir, "data"))
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	// Stopped: the node has never run.
	out, _ := operator(t, "correct horse battery\n", "user", "create", "--config", conf, "--password-stdin", "Alice")
	if !strings.HasPrefix(out, "created alice (") {
		t.Fatalf("create: %q", out)
	}

	cfg, err := LoadConfig(conf, envMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	n := startNode(t, cfg)
	call := func(method, path, token string, body any) (int, map[string]any) {
		t.Helper()
		st, data := apiCall(t, n.URL()+"/api/v10", method, path, token, body)
		var m map[string]any
		json.Unmarshal(data, &m)
		return st, m
	}
	login := func(name, pw string) (int, string) {
		st, m := call("POST", "/auth/login", "", map[string]any{"login": name, "password": pw})
		tok, _ := m["token"].(string)
		return st, tok
	}
	st, alice := login("alice", "correct horse battery")
	if st != 200 {
		t.Fatalf("login of an account made while stopped: %d", st)
	}

	// Running: registration needs a token, and one admits once.
	reg := func(name, token string) int {
		st, _ := call("POST", "/auth/register", "", map[string]any{"username": name, "password": "correct horse battery", "registration_token": token})
		return st
	}
	if st := reg("bob", ""); st != 400 {
		t.Fatalf("register without a token: %d", st)
	}
	tok, _ := operator(t, "", "registration-token", "--config", conf)
	tok = strings.TrimSpace(tok)
	if st := reg("bob", tok); st != 201 {
		t.Fatalf("register with a token: %d", st)
	}
	if st := reg("carol", tok); st != 400 {
		t.Fatalf("a spent token: %d", st)
	}

	operator(t, "", "user", "disable", "--config", conf, "alice")
	if st, _ := login("alice", "correct horse battery"); st != 400 {
		t.Fatalf("login of a disabled account: %d", st)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, _ := call("GET", "/users/@me", alice, nil)
		if st == 401 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a disabled account's token still works: %d", st)
		}
		time.Sleep(100 * time.Millisecond)
	}
	operator(t, "", "user", "enable", "--config", conf, "alice")
	operator(t, "a new password here\n", "user", "reset-password", "--config", conf, "--password-stdin", "alice")
	if st, _ := login("alice", "correct horse battery"); st != 400 {
		t.Fatalf("login with the old password: %d", st)
	}
	if st, _ := login("alice", "a new password here"); st != 200 {
		t.Fatalf("login with the new password: %d", st)
	}
	out, _ = operator(t, "", "user", "reset-password", "--config", conf, "bob")
	generated := strings.TrimPrefix(strings.SplitN(out, "\n", 2)[0], "password: ")
	if st, _ := login("bob", generated); st != 200 {
		t.Fatalf("login with the printed password: %d (%q)", st, out)
	}
	operator(t, "", "user", "delete", "--config", conf, "bob")
	if st, _ := login("bob", generated); st != 400 {
		t.Fatalf("login of a deleted account: %d", st)
	}
	var c syncBuffer
	if code := (command{stdin: strings.NewReader(""), stdout: &c, stderr: &c, lookupEnv: envMap(nil)}).main(t.Context(),
		[]string{"user", "disable", "--config", conf, "bob"}); code != 1 || !strings.Contains(c.String(), "no account") {
		t.Fatalf("disabling a deleted name: exit %d %q", code, c.String())
	}
}
