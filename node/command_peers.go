package node

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"
)

// peers is `concord peers`: it asks the running node (through its /admin
// routes, with [http] admin_token) which nodes it is connected to and what
// guilds it shares with each, and prints them.
func (c command) peers(ctx context.Context, args []string) error {
	f := c.flagSet("peers")
	path := f.String("config", "", "the node's config `file` (default: built-in defaults)")
	base := f.String("url", "", "the node's `URL` (default: from http.public_url or http.listen)")
	if err := parse(f, args); err != nil {
		return err
	}
	cfg, err := LoadConfig(*path, c.lookupEnv)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if cfg.HTTP.AdminToken == "" {
		return fmt.Errorf("peers: the node's [http] admin_token (or CONCORD_HTTP_ADMIN_TOKEN) must be set, here and on the node")
	}
	url := *base
	if url == "" {
		url = localURL(cfg.HTTP)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(url, "/")+"/admin/peers", nil)
	if err != nil {
		return fmt.Errorf("peers: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+cfg.HTTP.AdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("peers: is the node running? %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return fmt.Errorf("peers: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("peers: %s answered %s: %s", url, resp.Status, strings.TrimSpace(string(body)))
	}
	var list struct{ Peers []peerReport }
	if err := json.Unmarshal(body, &list); err != nil {
		return fmt.Errorf("peers: %w", err)
	}
	if len(list.Peers) == 0 {
		fmt.Fprintln(c.stdout, "no peers")
		return nil
	}
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "PEER\tADDRESS\tGUILDS")
	for _, p := range list.Peers {
		fmt.Fprintf(w, "%s\t%s\t%s\n", p.PeerID, strings.Join(p.Addrs, " "), strings.Join(p.Guilds, " "))
	}
	return w.Flush()
}

// localURL is where a command on the node's machine reaches its HTTP
// listener: the public URL if set, else the listen address, with an
// unspecified host as loopback.
func localURL(h HTTPConfig) string {
	if h.PublicURL != "" {
		return h.PublicURL
	}
	host, port, err := net.SplitHostPort(h.Listen)
	if err != nil {
		return "http://" + h.Listen
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	scheme := "http"
	if h.TLSCert != "" || len(h.ACMEDomains) > 0 {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}
