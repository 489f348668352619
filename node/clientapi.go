package node

import (
	"context"
	"fmt"
	"path/filepath"

	"concord/clientapi"
	"concord/clientapi/accounts"
	"concord/clientapi/auth"
	"concord/clientapi/dispatch"
	"concord/clientapi/gateway"
	"concord/clientapi/guilds"
	"concord/clientapi/interactions"
	"concord/clientapi/objects"
	"concord/clientapi/ratelimit"
	"concord/clientapi/signedurl"
	"concord/federation/snowflake"
)

// buildRenderer opens the CDN URL signer and the renderer over it, which
// federation feeds remote users' profiles to before the client API is
// built.
func (n *Node) buildRenderer() error {
	var err error
	if n.signer, err = signedurl.Open(n.cfg.Node.DataDir, nil); err != nil {
		return fmt.Errorf("client api: %w", err)
	}
	n.render = objects.NewRenderer(n.db.Reader(), n.cfg.HTTP.PublicURL, n.signer)
	return nil
}

// buildClientAPI wires Discord's client API as peers over the event core:
// the live state, the renderer, accounts and guild routes, the gateway and
// the translator that feeds it, and mounts their routes.
func (n *Node) buildClientAPI(ctx context.Context, ids *snowflake.Generator) error {
	cfg := n.cfg
	issuer := cfg.HTTP.PublicURL
	if issuer == "" {
		issuer = cfg.Node.Name
	}
	var err error
	n.auth, err = auth.New(auth.Config{KeyDir: filepath.Join(cfg.Node.DataDir, "jwt"), Issuer: issuer, Log: n.log}, n.db, ids)
	if err != nil {
		return fmt.Errorf("client api: %w", err)
	}
	render, signer := n.render, n.signer
	deps := dispatch.Deps{Auth: n.auth, DB: n.db, Core: n.events, Objects: render, Live: n.live}
	provider, err := dispatch.NewProvider(deps)
	if err != nil {
		return err
	}
	gatewayURL := gateway.PublicURL(n.URL())
	n.gateway, err = gateway.New(gateway.Config{PublicURL: gatewayURL, InboundLimit: cfg.Limits.GatewayEventsPerMinute,
		MaxPayload: cfg.Limits.GatewayMaxPayloadBytes, ConnsPerClient: cfg.Limits.GatewayConnectionsPerAddress,
		ClientKey: clientapi.ClientKey}, provider, n.live, n.log, n.metrics)
	if err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	n.closers = append(n.closers, closer{"gateway", func() error { n.gateway.Close(); return nil }})
	n.dispatch, err = dispatch.NewTranslator(dispatch.Config{Log: n.log, Metrics: n.metrics}, deps, n.gateway)
	if err != nil {
		return err
	}
	n.closers = append(n.closers, closer{"dispatch", n.dispatch.Close})

	guildAPI, err := guilds.New(guilds.Config{DataDir: cfg.Node.DataDir, MessagesPer10s: cfg.Limits.ChannelMessagesPer10s,
		MaxUploadBytes: cfg.Limits.MaxUploadBytes, QuotaBytes: cfg.Limits.StorageQuotaBytes}, guilds.Deps{DB: n.db, Log: n.log, Metrics: n.metrics, IDs: ids,
		Core: n.events, Blobs: n.blobs, Objects: render, Live: n.live, Remote: n.fed, Signer: signer})
	if err != nil {
		return fmt.Errorf("client api: %w", err)
	}
	accountAPI, err := accounts.New(accounts.Config{Issuer: issuer, RefreshPerMinute: cfg.Limits.AuthPerMinute,
		Registration: cfg.Node.Registration, RegistrationsPerDay: cfg.Limits.RegistrationsPerAddressPerDay}, accounts.Deps{DB: n.db, Log: n.log, Metrics: n.metrics,
		IDs: ids, Auth: n.auth, Blobs: n.blobs, Bots: guildAPI, Events: n.gateway, Live: n.gateway, Invites: guildAPI, Users: userChanges{n}, Remote: n.fed})
	if err != nil {
		return fmt.Errorf("client api: %w", err)
	}
	n.fed.ServeFriends(accountAPI)
	n.closers = append(n.closers, closer{"accounts", accountAPI.Close})
	bots, err := interactions.New(interactions.Config{}, interactions.Deps{DB: n.db, Log: n.log, IDs: ids, Core: n.events,
		Guilds: guildAPI, Objects: render, Events: n.gateway, Remote: n.fed})
	if err != nil {
		return fmt.Errorf("client api: %w", err)
	}
	n.fed.ServeInteractions(bots.Peers())
	n.closers = append(n.closers, closer{"interactions", bots.Close})
	proxies, err := ratelimit.ParseProxies(cfg.HTTP.TrustedProxies)
	if err != nil {
		return fmt.Errorf("http.trusted_proxies: %w", err)
	}
	err = clientapi.Mount(n.router, clientapi.Config{AuthPerMinute: cfg.Limits.AuthPerMinute, APIPerMinute: cfg.Limits.APIPerMinute,
		GatewayURL: gatewayURL, Proxies: proxies}, clientapi.Parts{Auth: n.auth, Accounts: accountAPI, Guilds: guildAPI, Interactions: bots, Gateway: n.gateway})
	if err != nil {
		return fmt.Errorf("client api: %w", err)
	}
	return nil
}
