package dispatch

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"concord/clientapi/auth"
	"concord/clientapi/gateway"
	"concord/clientapi/objects"
	"concord/federation/guild"
	"concord/federation/live"
	"concord/federation/perm"
	"concord/federation/room"
	"concord/federation/snowflake"
	"concord/storage"
)

// Provider is the gateway's view of the node (gateway.Provider):
// identities, READY and GUILD_CREATE data, member lists and channel
// visibility, read from storage, the event core's state and the live state.
type Provider struct {
	auth    *auth.Service
	db      *storage.DB
	core    *room.Core
	objects *objects.Renderer
	live    *live.Hub
	now     func() time.Time
}

// Deps are what the provider and the translator read.
type Deps struct {
	Auth    *auth.Service // the provider authenticates identifies
	DB      *storage.DB
	Core    *room.Core
	Objects *objects.Renderer
	Live    *live.Hub
	Now     func() time.Time // nil means time.Now: permissions are computed at this time
}

// NewProvider builds the gateway's provider.
func NewProvider(d Deps) (*Provider, error) {
	if d.Auth == nil || d.DB == nil || d.Core == nil || d.Objects == nil || d.Live == nil {
		return nil, errors.New("dispatch: Auth, DB, Core, Objects and Live are required")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Provider{auth: d.Auth, db: d.DB, core: d.Core, objects: d.Objects, live: d.Live, now: d.Now}, nil
}

func (p *Provider) nowMs() int64 { return p.now().UnixMilli() }

// Authenticate takes the token as gateway clients send it: discordgo sends
// "Bot x", discord.js a bare bot token, people's clients a bare user token.
func (p *Provider) Authenticate(ctx context.Context, token string) (gateway.Caller, error) {
	c, err := p.auth.Authenticate(ctx, token)
	if errors.Is(err, auth.ErrInvalidToken) && !strings.HasPrefix(token, "Bot ") && !strings.HasPrefix(token, "Bearer ") {
		c, err = p.auth.Authenticate(ctx, "Bot "+token)
	}
	if errors.Is(err, auth.ErrInvalidToken) {
		return gateway.Caller{}, gateway.ErrBadToken
	}
	if err != nil {
		return gateway.Caller{}, err
	}
	out := gateway.Caller{UserID: c.UserID, Session: c.SessionID, Bot: c.Bot}
	if c.Bot {
		// A bot's user ID is its application's.
		var flags int64
		err := p.db.Reader().QueryRowContext(ctx, `SELECT flags FROM applications WHERE id = ?`, int64(c.UserID)).Scan(&flags)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return gateway.Caller{}, fmt.Errorf("application flags: %w", err)
		}
		out.AppFlags = uint64(flags)
	}
	return out, nil
}

// StillValid rechecks a person's login session; a bot's token is checked
// when it identifies or resumes, and a reset on this node ends its
// connections at once.
func (p *Provider) StillValid(ctx context.Context, c gateway.Caller) (bool, error) {
	if c.Bot {
		return true, nil
	}
	return p.auth.SessionLive(ctx, c.UserID, c.Session)
}

// Ready returns what READY tells userID: who they are, their guilds, and
// their DMs.
func (p *Provider) Ready(ctx context.Context, userID snowflake.ID) (gateway.ReadyData, error) {
	me, err := objects.LoadMe(ctx, p.db.Reader(), userID)
	if err != nil {
		return gateway.ReadyData{}, err
	}
	user, err := json.Marshal(me)
	if err != nil {
		return gateway.ReadyData{}, err
	}
	rd := gateway.ReadyData{User: user}
	if rd.Guilds, err = guildsOf(ctx, p.db, userID); err != nil {
		return gateway.ReadyData{}, fmt.Errorf("ready guilds: %w", err)
	}
	dms, err := p.objects.DMs(ctx, userID, 0)
	if err != nil {
		return gateway.ReadyData{}, err
	}
	for _, dm := range dms {
		rd.DMRooms = append(rd.DMRooms, dm.ID)
	}
	if rd.PrivateChannels, err = json.Marshal(dms); err != nil {
		return gateway.ReadyData{}, err
	}
	if rd.Presences, err = p.friendPresences(ctx, userID); err != nil {
		return gateway.ReadyData{}, err
	}
	if me.Bot {
		rd.ApplicationID = userID
	}
	return rd, nil
}

// friendPresences are READY's presences: the user's friends who are not
// offline, as Discord lists them.
func (p *Provider) friendPresences(ctx context.Context, userID snowflake.ID) (json.RawMessage, error) {
	friends, err := friendsOf(ctx, p.db, userID)
	if err != nil {
		return nil, fmt.Errorf("ready friends: %w", err)
	}
	out := []json.RawMessage{}
	for _, id := range friends {
		if pr := p.live.Presence(id); pr.Status != live.StatusOffline {
			out = append(out, renderPresence(pr, 0))
		}
	}
	return json.Marshal(out)
}

// guildsOf lists the guilds (not DMs) userID is a member of, from the
// projection.
func guildsOf(ctx context.Context, db *storage.DB, userID snowflake.ID) ([]snowflake.ID, error) {
	rows, err := db.Reader().QueryContext(ctx, `SELECT m.guild_id FROM guild_members m JOIN guilds g ON g.id = m.guild_id
		WHERE m.user_id = ? AND g.kind = ? AND NOT g.deleted ORDER BY m.guild_id`, int64(userID), guild.KindGuild)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []snowflake.ID
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, snowflake.ID(id))
	}
	return out, rows.Err()
}

// gatewayGuild is GUILD_CREATE's guild: the REST object plus what only the
// gateway sends.
type gatewayGuild struct {
	objects.Guild
	JoinedAt    string            `json:"joined_at"`
	Large       bool              `json:"large"`
	Unavailable bool              `json:"unavailable"`
	MemberCount int               `json:"member_count"`
	Channels    []objects.Channel `json:"channels"`
	Threads     []struct{}        `json:"threads"`
	Members     []objects.Member  `json:"members"`
	Presences   []json.RawMessage `json:"presences"`
	VoiceStates []json.RawMessage `json:"voice_states"`
}

// GuildCreate renders guildID as userID sees it when they identify or join.
func (p *Provider) GuildCreate(ctx context.Context, guildID, userID snowflake.ID, opt gateway.GuildCreateOptions) (json.RawMessage, error) {
	g := gatewayGuild{Threads: []struct{}{}, Presences: []json.RawMessage{}, VoiceStates: []json.RawMessage{}}
	var online []live.Presence
	err := p.core.View(ctx, guildID, func(s *guild.State) error {
		me := s.Members[userID]
		if me == nil {
			return fmt.Errorf("guild %s: %s is not a member", guildID, userID)
		}
		g.Guild, g.JoinedAt, g.MemberCount = objects.RenderGuild(s), objects.ISOTime(me.JoinedAt), len(s.Members)
		g.Large, g.Channels = len(s.Members) > opt.LargeThreshold, objects.VisibleChannels(s, userID, p.nowMs())
		// A large guild sends only the caller (Discord sends those online;
		// the rest come by op 8).
		if g.Large {
			g.Members = []objects.Member{objects.RenderMember(me)}
		} else {
			for _, m := range s.Members {
				g.Members = append(g.Members, objects.RenderMember(m))
			}
		}
		if opt.Presences {
			online = live.Presences(p.live, s.Members, opt.LargeThreshold)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(g.Members, func(x, y objects.Member) int { return cmp.Compare(x.User.ID, y.User.ID) })
	if err := p.objects.WithUsers(ctx, g.Members); err != nil {
		return nil, err
	}
	for _, pr := range online {
		g.Presences = append(g.Presences, renderPresence(pr, 0))
	}
	if opt.VoiceStates {
		for _, v := range p.live.VoiceStates(guildID) {
			g.VoiceStates = append(g.VoiceStates, renderVoice(v))
		}
	}
	return json.Marshal(g)
}

// Members answers op 8 from the guild's state: by IDs, or by a prefix of
// username, global name or nick (case-insensitive, as Discord).
func (p *Provider) Members(ctx context.Context, guildID snowflake.ID, q gateway.MemberQuery) (gateway.Members, error) {
	var found []objects.Member
	var out gateway.Members
	err := p.core.View(ctx, guildID, func(s *guild.State) error {
		if len(q.UserIDs) > 0 {
			for _, id := range q.UserIDs {
				if m := s.Members[id]; m != nil {
					found = append(found, objects.RenderMember(m))
				} else {
					out.NotFound = append(out.NotFound, id)
				}
			}
			return nil
		}
		for _, m := range s.Members {
			found = append(found, objects.RenderMember(m))
		}
		return nil
	})
	if err != nil {
		return gateway.Members{}, err
	}
	slices.SortFunc(found, func(x, y objects.Member) int { return cmp.Compare(x.User.ID, y.User.ID) })
	if err := p.objects.WithUsers(ctx, found); err != nil {
		return gateway.Members{}, err
	}
	prefix := strings.ToLower(q.Query)
	for _, m := range found {
		if q.Limit > 0 && len(out.Members) >= q.Limit {
			break
		}
		if len(q.UserIDs) == 0 && prefix != "" && !memberMatches(m, prefix) {
			continue
		}
		data, err := json.Marshal(m)
		if err != nil {
			return gateway.Members{}, err
		}
		out.Members = append(out.Members, data)
		if pr := p.live.Presence(m.User.ID); q.Presences && pr.Status != live.StatusOffline {
			out.Presences = append(out.Presences, renderPresence(pr, 0))
		}
	}
	return out, nil
}

func memberMatches(m objects.Member, prefix string) bool {
	names := []string{m.User.Username}
	if m.User.GlobalName != nil {
		names = append(names, *m.User.GlobalName)
	}
	if m.Nick != nil {
		names = append(names, *m.Nick)
	}
	for _, n := range names {
		if strings.HasPrefix(strings.ToLower(n), prefix) {
			return true
		}
	}
	return false
}

// canViewTimeout bounds a visibility check that must load a guild: the
// gateway asks while fanning a dispatch out, which must not hang on storage.
const canViewTimeout = 2 * time.Second

// CanView reports whether userID may view channelID now.
func (p *Provider) CanView(guildID, channelID, userID snowflake.ID) bool {
	ctx, cancel := context.WithTimeout(context.Background(), canViewTimeout)
	defer cancel()
	ok := false
	_ = p.core.View(ctx, guildID, func(s *guild.State) error {
		ok = s.Members[userID] != nil && s.Permissions(userID, channelID, p.nowMs()).Has(perm.ViewChannel)
		return nil
	})
	return ok
}
