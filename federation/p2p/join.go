package p2p

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"concord/federation/event"
	"concord/federation/guild"
	"concord/federation/room"
	"concord/federation/snowflake"
)

// Join bounds (spec/federation.md, "Invites and joins").
const (
	inviteAsk     = 16 // connected peers asked at once for an invite
	inviteTimeout = 5 * time.Second
	maxJoinEvents = 1_000_000 // events a join may fetch
	joinTimeout   = 10 * time.Minute
)

// ErrUnknownInvite is FetchInvite's answer when no connected peer holds
// the invite, or it no longer admits anyone.
var ErrUnknownInvite = errors.New("no peer holds the invite")

type inviteReq struct {
	Code string `json:"code"`
}

// inviteResp names the room holding the invite, with its guild.create
// event, which binds the answer to the code, and a preview; it is {} when
// the node holds no usable invite of that code.
type inviteResp struct {
	GuildID snowflake.ID    `json:"guild_id,omitzero"`
	Create  json.RawMessage `json:"create,omitempty"`
	Preview *InvitePreview  `json:"preview,omitempty"`
}

// InvitePreview is what a node holding an invite tells of it, so that
// another node can show it before joining (GET /invites/{code}).
type InvitePreview struct {
	GuildName         string       `json:"guild_name"`
	Icon              string       `json:"icon,omitempty"`
	Description       string       `json:"description,omitempty"`
	VerificationLevel int          `json:"verification_level,omitempty"`
	ChannelID         snowflake.ID `json:"channel_id"`
	ChannelName       string       `json:"channel_name"`
	ChannelType       int          `json:"channel_type,omitempty"`
	Members           int          `json:"members"`
	InviterID         snowflake.ID `json:"inviter_id"`
	Uses              int          `json:"uses"`
	MaxUses           int          `json:"max_uses"`
	MaxAge            int64        `json:"max_age"`
	Temporary         bool         `json:"temporary,omitempty"`
	CreatedAt         int64        `json:"created_at"`
}

// maxPreviewText bounds each text of a preview another node sends.
const maxPreviewText = 1024

func (p *InvitePreview) sane() bool {
	return p != nil && len(p.GuildName) <= maxPreviewText && len(p.Icon) <= maxPreviewText &&
		len(p.Description) <= maxPreviewText && len(p.ChannelName) <= maxPreviewText
}

// joinReq asks for a page of a room's log after position After, the
// invite (or, without one, being a member's home) the credential. A join
// takes every state event and the newest events whole, and the rest as
// stubs (spec/federation.md, "Joining with partial state"): WholeFrom is
// the depth from which every event comes whole, 0 on the first page, where
// the answer sets it for the pages after.
type joinReq struct {
	GuildID    snowflake.ID `json:"guild_id"`
	InviteCode string       `json:"invite_code"`
	After      room.Pos     `json:"after"`
	WholeFrom  int64        `json:"whole_from"`
}

type joinResp struct {
	Entries   []joinEntry `json:"entries"`
	Next      room.Pos    `json:"next"`
	WholeFrom int64       `json:"whole_from"`
}

// joinEntry is an event or its stub.
type joinEntry struct {
	Event json.RawMessage `json:"event,omitempty"`
	Stub  *wireStub       `json:"stub,omitempty"`
}

// wireStub is room.Stub on the wire: the guild is the request's.
type wireStub struct {
	ID           string       `json:"id"`
	Type         string       `json:"type"`
	Sender       snowflake.ID `json:"sender"`
	OriginTS     int64        `json:"origin_ts"`
	Depth        int64        `json:"depth"`
	StateParents []string     `json:"state_parents"`
	MessageID    snowflake.ID `json:"message_id,omitzero"`
	ChannelID    snowflake.ID `json:"channel_id,omitzero"`
}

// sendReq pushes one event; sendResp is the receiver's verdict.
type sendReq struct {
	Event json.RawMessage `json:"event"`
}

type sendResp struct {
	Verdict string `json:"verdict"`
}

func (f *Federation) serveStreams() {
	serve(f, ProtoHeads, f.serveHeads)
	serve(f, ProtoMissing, f.serveMissing)
	serve(f, ProtoBackfill, f.serveBackfill)
	serve(f, ProtoInvite, f.serveInvite)
	serve(f, ProtoJoin, f.serveJoin)
	serve(f, ProtoSend, f.serveSend)
	serve(f, ProtoProfile, f.serveProfile)
	serve(f, ProtoInvoke, f.serveInvoke)
	serve(f, ProtoCommands, f.serveCommands)
	serve(f, ProtoFriend, f.serveFriend)
	serveLimit(f, ProtoVoice, maxVoiceRequest, f.serveVoice)
	serveLimit(f, ProtoDeliver, maxDelivery, f.serveDeliver)
	serveRaw(f, ProtoFile, maxRequest, fileDeadline, f.serveFile)
}

// usableInvite previews code if the room holds it as an invite that still
// admits someone, and names the room's guild.create event; nil otherwise.
func (f *Federation) usableInvite(ctx context.Context, gid snowflake.ID, code string) (out *InvitePreview, createID string) {
	f.core.View(ctx, gid, func(s *guild.State) error {
		inv := s.Invites[code]
		if s.Deleted || inv == nil || !inv.Usable(time.Now().UnixMilli()) {
			return nil
		}
		createID = s.CreateEvent
		out = &InvitePreview{GuildName: s.Name, Icon: s.Icon, Description: s.Description,
			VerificationLevel: s.VerificationLevel, ChannelID: inv.ChannelID, Members: len(s.Members),
			InviterID: inv.InviterID, Uses: inv.Uses, MaxUses: inv.MaxUses, MaxAge: inv.MaxAge,
			Temporary: inv.Temporary, CreatedAt: inv.CreatedAt}
		if ch := s.Channels[inv.ChannelID]; ch != nil {
			out.ChannelName, out.ChannelType = ch.Name, ch.Type
		}
		return nil
	})
	return out, createID
}

func (f *Federation) serveInvite(_ network.Stream, req *inviteReq) (any, error) {
	ctx, cancel := context.WithTimeout(f.ctx, streamDeadline)
	defer cancel()
	gids, err := f.core.InviteRooms(ctx, req.Code)
	if err != nil {
		return nil, err
	}
	for _, gid := range gids {
		p, createID := f.usableInvite(ctx, gid, req.Code)
		if p == nil {
			continue
		}
		evs, err := f.core.Events(ctx, gid, []string{createID})
		if err != nil {
			return nil, err
		}
		return inviteResp{GuildID: gid, Create: evs[createID], Preview: p}, nil
	}
	return inviteResp{}, nil
}

// serveJoin answers a page of a room's log to a node with a usable
// invite, or, without one, to the home of a current member: a node whose
// user a group DM added fetches the room this way.
func (f *Federation) serveJoin(s network.Stream, req *joinReq) (any, error) {
	ctx, cancel := context.WithTimeout(f.ctx, streamDeadline)
	defer cancel()
	if req.InviteCode == "" {
		if !f.shares(ctx, req.GuildID, s.Conn().RemotePeer()) {
			return nil, errNotShared
		}
	} else if p, _ := f.usableInvite(ctx, req.GuildID, req.InviteCode); p == nil {
		return nil, errors.New("no usable invite")
	}
	whole := req.WholeFrom
	if whole <= 0 {
		var err error
		if whole, err = f.core.WholeFrom(ctx, req.GuildID, joinRecent); err != nil {
			return nil, err
		}
	}
	entries, next, err := f.core.JoinLog(ctx, req.GuildID, req.After, whole, maxJoinPage, pageBytes)
	if err != nil {
		return nil, err
	}
	resp := joinResp{Entries: make([]joinEntry, len(entries)), Next: next, WholeFrom: whole}
	for i, e := range entries {
		if e.Stub == nil {
			resp.Entries[i].Event = e.Raw
			continue
		}
		st := e.Stub
		resp.Entries[i].Stub = &wireStub{ID: st.ID, Type: st.Type, Sender: st.Sender, OriginTS: st.OriginTS, Depth: st.Depth,
			StateParents: st.StateParents, MessageID: st.Message, ChannelID: st.Channel}
	}
	return resp, nil
}

func (f *Federation) serveSend(s network.Stream, req *sendReq) (any, error) {
	ctx, cancel := context.WithTimeout(f.ctx, streamDeadline)
	defer cancel()
	ev, err := event.Parse(req.Event)
	if err == nil && ev.Type == guild.TypeGuildCreate && !f.dmAllowed(ctx, ev) {
		return sendResp{Verdict: "rejected"}, nil
	}
	if err == nil && ev.Type == guild.TypeMemberAdd {
		if verdict, done := f.added(ctx, ev, s.Conn().RemotePeer()); done {
			return sendResp{Verdict: verdict}, nil
		}
	}
	if err == nil {
		_, err = f.core.Accept(ctx, req.Event)
	}
	verdict, _ := judge(err)
	return sendResp{Verdict: verdict}, nil
}

// FetchInvite finds a connected peer holding invite code and brings the
// room it belongs to into the event core: every event of it, through
// AcceptBatch. The local member.join that follows is sent to that peer
// directly, and only then is the room's topic subscribed to and the join
// gossiped: the room's nodes take subscriptions from their members' homes
// alone. It returns the room's ID.
func (f *Federation) FetchInvite(ctx context.Context, code string) (snowflake.ID, error) {
	found, err := f.findInvite(ctx, code)
	if err != nil {
		return 0, err
	}
	gid, p := found.gid, found.p
	ctx, cancel := context.WithTimeout(ctx, joinTimeout)
	defer cancel()
	starts := func(ev *event.Event) bool { return ev.ID() == found.create }
	if err := f.fetchRoom(ctx, gid, p, code, starts); err != nil {
		f.mu.Lock()
		delete(f.via, gid)
		f.mu.Unlock()
		return 0, err
	}
	f.wantProfiles(ctx, gid)
	return gid, nil
}

// wantProfiles asks for the profiles of the room's members of other nodes.
func (f *Federation) wantProfiles(ctx context.Context, gid snowflake.ID) {
	f.core.View(ctx, gid, func(s *guild.State) error {
		for uid := range s.Members {
			if home, err := peer.Decode(s.Homes[uid]); err == nil && home != f.host.ID() {
				f.wantProfile(home, uid)
			}
		}
		return nil
	})
}

// fetchRoom takes room gid from p, which holds invite code (empty: p is
// the home of a member, and this node is now one too): every state event
// and the newest events, and stubs of the rest, which backfill then brings
// (backfill.go). The room's log must start with the guild.create starts
// accepts. The room counts as joining through p from the start
// (Federation.joining).
func (f *Federation) fetchRoom(ctx context.Context, gid snowflake.ID, p peer.ID, code string, starts func(*event.Event) bool) error {
	f.mu.Lock()
	if _, subscribed := f.topics[gid]; !subscribed {
		f.via[gid] = p
	}
	f.mu.Unlock()
	// The next page is fetched while this one is accepted.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pages := make(chan joinResp, 1)
	fetched := make(chan error, 1)
	go func() {
		defer close(pages)
		fetched <- f.joinPages(ctx, gid, p, code, pages)
	}()
	stubs, first := 0, true
	for resp := range pages {
		if first {
			// The log starts with the room's guild.create: anything else
			// is another room.
			ev, err := event.Parse(resp.Entries[0].Event)
			if err != nil || ev.Type != guild.TypeGuildCreate || ev.GuildID != gid || !starts(ev) {
				return fmt.Errorf("join %s from %s: the log does not start with the room's guild.create", gid, p)
			}
			first = false
		}
		entries := make([]room.Entry, len(resp.Entries))
		for i, e := range resp.Entries {
			if st := e.Stub; st != nil {
				entries[i].Stub = &room.Stub{GuildID: gid, ID: st.ID, Type: st.Type, Sender: st.Sender, OriginTS: st.OriginTS,
					Depth: st.Depth, StateParents: st.StateParents, Message: st.MessageID, Channel: st.ChannelID}
				stubs++
			} else {
				entries[i].Raw = e.Event
			}
		}
		if err := errors.Join(f.core.AcceptEntries(ctx, entries)...); err != nil {
			f.log.Warn("federation: join: an event was refused", "guild", gid, "peer", p, "err", err)
		}
	}
	if err := <-fetched; err != nil {
		return err
	}
	if err := f.core.View(ctx, gid, func(*guild.State) error { return nil }); err != nil {
		return fmt.Errorf("join %s from %s: %w", gid, p, err)
	}
	if stubs > 0 {
		f.log.Info("federation: joined with partial state; backfilling", "guild", gid, "peer", p, "stubs", stubs)
		f.goRun(func() { f.backfill(gid, p, code, room.End) })
	}
	return nil
}

// joinPages fetches the pages of a join from p into pages, in order,
// until the end of the log, and checks that each goes forward.
func (f *Federation) joinPages(ctx context.Context, gid snowflake.ID, p peer.ID, code string, pages chan<- joinResp) error {
	var (
		after room.Pos
		whole int64
	)
	for n := 0; n < maxJoinEvents; {
		var resp joinResp
		if err := f.call(ctx, p, ProtoJoin, joinReq{GuildID: gid, InviteCode: code, After: after, WholeFrom: whole}, &resp); err != nil {
			return err
		}
		if len(resp.Entries) == 0 {
			return nil
		}
		if len(resp.Entries) > maxJoinPage || !after.Before(resp.Next) || whole != 0 && resp.WholeFrom != whole || resp.WholeFrom <= 0 {
			return fmt.Errorf("join %s from %s: a page of %d entries ending at %v after %v", gid, p, len(resp.Entries), resp.Next, after)
		}
		select {
		case pages <- resp:
		case <-ctx.Done():
			return ctx.Err()
		}
		after, whole, n = resp.Next, resp.WholeFrom, n+len(resp.Entries)
	}
	return nil
}

// PreviewInvite asks connected peers for invite code and returns the
// room holding it and its preview.
func (f *Federation) PreviewInvite(ctx context.Context, code string) (snowflake.ID, *InvitePreview, error) {
	found, err := f.findInvite(ctx, code)
	return found.gid, found.preview, err
}

// foundInvite is the room a peer names for an invite code: its ID and
// guild.create event, and the preview the peer gave.
type foundInvite struct {
	gid     snowflake.ID
	create  string
	p       peer.ID
	preview *InvitePreview
}

// findInvite asks connected peers which room holds code; the first answer
// that code binds to wins.
func (f *Federation) findInvite(ctx context.Context, code string) (foundInvite, error) {
	ctx, cancel := context.WithTimeout(ctx, inviteTimeout)
	defer cancel()
	peers := f.host.Network().Peers()
	peers = peers[:min(len(peers), inviteAsk)]
	answers := make(chan foundInvite, len(peers))
	for _, p := range peers {
		go func() {
			var resp inviteResp
			a := foundInvite{p: p}
			if err := f.call(ctx, p, ProtoInvite, inviteReq{Code: code}, &resp); err == nil && resp.GuildID != 0 {
				if create, ok := bindsInvite(code, &resp); ok {
					a.gid, a.create, a.preview = resp.GuildID, create, resp.Preview
				} else {
					f.log.Warn("federation: an invite answer names a room the code does not lead to", "peer", p, "guild", resp.GuildID)
				}
			}
			answers <- a
		}()
	}
	for range peers {
		if a := <-answers; a.gid != 0 {
			return a, nil
		}
	}
	return foundInvite{}, ErrUnknownInvite
}

// bindsInvite checks an invite answer: a sane preview and the room's own
// guild.create, signed by its origin, that code leads to
// (guild.InviteNames). It returns the create event's ID.
func bindsInvite(code string, resp *inviteResp) (string, bool) {
	if !resp.Preview.sane() {
		return "", false
	}
	ev, err := event.Parse(resp.Create)
	if err != nil || event.Verify(ev) != nil || ev.Type != guild.TypeGuildCreate || ev.GuildID != resp.GuildID {
		return "", false
	}
	return ev.ID(), guild.InviteNames(code, ev.ID())
}

// dmAllowed reports whether a pushed guild.create may start a room here:
// only a DM or group DM naming a user of this node, none of whom blocked
// its creator (or was blocked by them), and for a group DM only users who
// are friends with its creator, as on Discord.
func (f *Federation) dmAllowed(ctx context.Context, ev *event.Event) bool {
	if !slices.Contains(remoteRecipients(ev, ev.Origin), f.host.ID()) {
		return false
	}
	var c guild.GuildCreate
	if json.Unmarshal(ev.Content, &c) != nil {
		return false
	}
	self := f.host.ID().String()
	for _, r := range c.Recipients {
		if r.Origin == self && !f.mayReach(ctx, r.UserID, ev.Sender, c.Kind == guild.KindGroupDM) {
			return false
		}
	}
	return true
}

// mayReach reports whether sender may put local user in a DM: neither
// blocked the other, and, for a group DM (friends), they are friends.
func (f *Federation) mayReach(ctx context.Context, user, sender snowflake.ID, friends bool) bool {
	if f.cfg.Directory == nil {
		return true
	}
	if blocked, err := f.cfg.Directory.Blocked(ctx, user, sender); err != nil || blocked {
		return false
	}
	if !friends {
		return true
	}
	ok, err := f.cfg.Directory.Friends(ctx, user, sender)
	return err == nil && ok
}

// push sends one local event to p directly: the member.join of a room
// joined through p, so that p admits the new member without waiting for
// gossip, or a DM's guild.create to a recipient's home, which does not
// hold the room yet.
func (f *Federation) push(p peer.ID, body []byte) {
	ctx, cancel := context.WithTimeout(f.ctx, streamDeadline)
	defer cancel()
	var resp sendResp
	if err := f.call(ctx, p, ProtoSend, sendReq{Event: body}, &resp); err != nil {
		f.log.Warn("federation: push", "peer", p, "err", err)
		return
	}
	if resp.Verdict != "accepted" && resp.Verdict != "duplicate" {
		f.log.Warn("federation: push refused", "peer", p, "verdict", resp.Verdict)
	}
}
