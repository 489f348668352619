//go:build cluster

package scenario

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
)

// netem puts delay and loss on node n's link to the other nodes (its
// interface on the federation network) with tc's netem qdisc, entered
// through the container's network namespace: that needs root, nsenter
// and tc on this machine and the netem module in its kernel. It returns
// the function that takes them away again, or an error saying what is
// missing.
func netem(t *testing.T, n *node, rule string) (undo func(), err error) {
	pid := strings.TrimSpace(docker(t, "inspect", "-f", "{{.State.Pid}}", n.container))
	ip := strings.TrimSpace(docker(t, "inspect", "-f", `{{(index .NetworkSettings.Networks "`+fedNetwork+`").IPAddress}}`, n.container))
	in := func(args ...string) (string, error) {
		out, err := exec.Command("nsenter", append([]string{"-t", pid, "-n"}, args...)...).CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("nsenter %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
		}
		return string(out), nil
	}
	addrs, err := in("ip", "-o", "-4", "addr", "show")
	if err != nil {
		return nil, err
	}
	dev := ""
	for _, line := range strings.Split(addrs, "\n") {
		if f := strings.Fields(line); len(f) >= 4 && strings.HasPrefix(f[3], ip+"/") {
			dev = f[1]
		}
	}
	if dev == "" {
		return nil, fmt.Errorf("no interface of %s has %s", n.name, ip)
	}
	if _, err := in(append([]string{"tc", "qdisc", "add", "dev", dev, "root", "netem"}, strings.Fields(rule)...)...); err != nil {
		return nil, err
	}
	return func() {
		if _, err := in("tc", "qdisc", "del", "dev", dev, "root"); err != nil {
			t.Error(err)
		}
	}, nil
}
