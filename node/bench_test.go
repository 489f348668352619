package node

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BenchmarkNodeStartup measures the real binary: time from exec until
// /health answers 200 on a fresh data dir (goal: median under 300 ms), and
// the resident memory of an idle node (goal: under 40 MiB).
func BenchmarkNodeStartup(b *testing.B) {
	bin := buildConcord(b)
	var starts []time.Duration
	for b.Loop() {
		p := startProcess(b, bin)
		starts = append(starts, p.coldStart)
		b.StopTimer()
		p.stop(b)
		b.StartTimer()
	}
	slices.Sort(starts)
	median := starts[len(starts)/2]
	b.ReportMetric(float64(median.Microseconds())/1000, "ms-median-start")

	p := startProcess(b, bin)
	time.Sleep(3 * time.Second) // let start-up garbage be collected
	rss := p.rss(b)
	p.stop(b)
	b.ReportMetric(rss, "MiB-idle-RSS")
	fmt.Printf("node cold start: median %d ms (%d runs)\nnode idle RSS: %.1f MiB\n",
		median.Milliseconds(), len(starts), rss)
}

type benchProcess struct {
	cmd       *exec.Cmd
	coldStart time.Duration
}

// startProcess starts bin on a new data dir and a free port and waits until
// /health answers 200.
func startProcess(b *testing.B, bin string) *benchProcess {
	b.Helper()
	cmd := exec.Command(bin, "run", "--listen", "127.0.0.1:0", "--data-dir", b.TempDir())
	cmd.Env = append(os.Environ(), "CONCORD_LOG_LEVEL=warn",
		"CONCORD_FEDERATION_LISTEN=/ip4/127.0.0.1/tcp/0", "CONCORD_FEDERATION_MDNS=false")
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	p := &benchProcess{cmd: cmd}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "Concord is running: open ")
	if err != nil || !ok {
		p.stop(b)
		b.Fatalf("start: %q, %v", line, err)
	}
	for {
		resp, err := http.Get(url + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Since(start) > 10*time.Second {
			p.stop(b)
			b.Fatalf("no healthy /health after 10 s: %v", err)
		}
		time.Sleep(time.Millisecond)
	}
	p.coldStart = time.Since(start)
	return p
}

// rss reads the process's resident set from /proc, in MiB.
func (p *benchProcess) rss(b *testing.B) float64 {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		b.Skipf("no /proc: %v", err)
	}
	for line := range strings.Lines(string(status)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			if err != nil {
				b.Fatalf("VmRSS %q: %v", rest, err)
			}
			return kb / 1024
		}
	}
	b.Fatal("no VmRSS in /proc status")
	return 0
}

func (p *benchProcess) stop(b *testing.B) {
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.cmd.Wait(); err != nil {
		b.Errorf("concord exited with %v", err)
	}
}
