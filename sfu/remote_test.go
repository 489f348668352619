package sfu

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"concord/federation/live"
	"concord/federation/snowflake"
)

// A benchmark's SFU may run in a process of its own, so that its CPU time
// is told apart from its clients': the test binary runs again as
// TestServeRig, which builds a rig and serves its joins over HTTP.

// rigMembers names the environment variable that makes TestServeRig
// serve a rig of that many members.
const rigMembers = "CONCORD_SFU_RIG_MEMBERS"

func TestServeRig(t *testing.T) {
	members, err := strconv.Atoi(os.Getenv(rigMembers))
	if err != nil {
		t.Skip("the benchmarks run it")
	}
	r := newRig(t, members, nil)
	ctl := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		user, err1 := snowflake.Parse(req.URL.Query().Get("user"))
		ch, err2 := snowflake.Parse(req.URL.Query().Get("channel"))
		if err1 != nil || err2 != nil {
			http.Error(w, "bad IDs", http.StatusBadRequest)
			return
		}
		json.NewEncoder(w).Encode(r.join(t, user, ch))
	}))
	defer ctl.Close()
	fmt.Printf("rig %s %s\n", r.url, ctl.URL)
	io.Copy(io.Discard, os.Stdin) // until the benchmark closes it
}

// remote is the process an SFU runs in for a benchmark.
type remote struct {
	control string // where joins are asked for
	proc    *os.Process
}

// newRemoteRig starts a rig of members in a process of its own.
func newRemoteRig(t testing.TB, members int) *rig {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestServeRig$")
	cmd.Env = append(os.Environ(), rigMembers+"="+strconv.Itoa(members))
	cmd.Stderr = os.Stderr
	stdin, err1 := cmd.StdinPipe()
	stdout, err2 := cmd.StdoutPipe()
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Wait()
	})
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 3 && f[0] == "rig" {
			go io.Copy(io.Discard, stdout)
			return &rig{url: f[1], remote: &remote{control: f[2], proc: cmd.Process}}
		}
	}
	t.Fatal("the SFU's process did not start")
	return nil
}

func (rm *remote) join(t testing.TB, user, ch snowflake.ID) live.VoiceServer {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("%s/?user=%s&channel=%s", rm.control, user, ch))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v live.VoiceServer
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatalf("join %s: %s %v", user, resp.Status, err)
	}
	return v
}

// cpu is the CPU time the process has used so far, user and system, read
// from /proc in clock ticks of 10 ms.
func (rm *remote) cpu() time.Duration {
	if rm == nil {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", rm.proc.Pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.Atoi(f[11])
	stime, _ := strconv.Atoi(f[12])
	return time.Duration(utime+stime) * 10 * time.Millisecond
}
