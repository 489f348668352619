package clientapi

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
	"concord/federation/guild"
	"concord/federation/perm"
	"concord/federation/snowflake"
)

// GatewayProvider is the gateway's view of this API: identities, READY and
// GUILD_CREATE data, member lists and channel visibility, read from storage
// and the event core's state.
func (a *API) GatewayProvider() gateway.Provider { return gatewayProvider{a} }

type gatewayProvider struct{ a *API }

// Authenticate takes the token as gateway clients send it: discordgo sends
// "Bot x", discord.js a bare bot token, people's clients a bare user token.
func (p gatewayProvider) Authenticate(ctx context.Context, token string) (gateway.Caller, error) {
	c, err := p.a.auth.Authenticate(ctx, token)
	if errors.Is(err, auth.ErrInvalidToken) && !strings.HasPrefix(token, "Bot ") && !strings.HasPrefix(token, "Bearer ") {
		c, err = p.a.auth.Authenticate(ctx, "Bot "+token)
	}
	if errors.Is(err, auth.ErrInvalidToken) {
		return gateway.Caller{}, gateway.ErrBadToken
	}
	if err != nil {
		return gateway.Caller{}, err
	}
	out := gateway.Caller{UserID: c.UserID, Bot: c.Bot}
	if c.Bot {
		// A bot's user ID is its application's.
		var flags int64
		err := p.a.db.Reader().QueryRowContext(ctx, `SELECT flags FROM applications WHERE id = ?`, int64(c.UserID)).Scan(&flags)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return gateway.Caller{}, fmt.Errorf("application flags: %w", err)
		}
		out.AppFlags = uint64(flags)
	}
	return out, nil
}

func (p gatewayProvider) Ready(ctx context.Context, userID snowflake.ID) (gateway.ReadyData, error) {
	a := p.a
	me, err := loadMe(ctx, a.db.Reader(), userID)
	if err != nil {
		return gateway.ReadyData{}, err
	}
	user, err := json.Marshal(me)
	if err != nil {
		return gateway.ReadyData{}, err
	}
	rows, err := a.db.Reader().QueryContext(ctx, `SELECT m.guild_id FROM guild_members m JOIN guilds g ON g.id = m.guild_id
		WHERE m.user_id = ? AND g.kind = ? AND NOT g.deleted ORDER BY m.guild_id`, int64(userID), guild.KindGuild)
	if err != nil {
		return gateway.ReadyData{}, fmt.Errorf("ready guilds: %w", err)
	}
	rd := gateway.ReadyData{User: user}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return gateway.ReadyData{}, fmt.Errorf("ready guilds: %w", err)
		}
		rd.Guilds = append(rd.Guilds, snowflake.ID(id))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return gateway.ReadyData{}, fmt.Errorf("ready guilds: %w", err)
	}
	dms, err := a.loadDMs(ctx, userID, 0)
	if err != nil {
		return gateway.ReadyData{}, err
	}
	for _, dm := range dms {
		rd.DMRooms = append(rd.DMRooms, dm.ID)
	}
	if rd.PrivateChannels, err = json.Marshal(dms); err != nil {
		return gateway.ReadyData{}, err
	}
	if me.Bot {
		rd.ApplicationID = userID
	}
	return rd, nil
}

// gatewayGuild is GUILD_CREATE's guild: the REST object plus what only the
// gateway sends. The gateway adds presences and voice_states.
type gatewayGuild struct {
	guildObject
	JoinedAt    string          `json:"joined_at"`
	Large       bool            `json:"large"`
	Unavailable bool            `json:"unavailable"`
	MemberCount int             `json:"member_count"`
	Channels    []channelObject `json:"channels"`
	Threads     []struct{}      `json:"threads"`
	Members     []memberObject  `json:"members"`
}

func (p gatewayProvider) GuildCreate(ctx context.Context, guildID, userID snowflake.ID, largeThreshold int) (json.RawMessage, error) {
	a := p.a
	var g gatewayGuild
	err := a.core.View(ctx, guildID, func(s *guild.State) error {
		me := s.Members[userID]
		if me == nil {
			return fmt.Errorf("guild %s: %s is not a member", guildID, userID)
		}
		g = gatewayGuild{guildObject: renderGuild(s), JoinedAt: isoTime(me.JoinedAt), MemberCount: len(s.Members),
			Large: len(s.Members) > largeThreshold, Channels: visibleChannels(s, userID, a.nowMs()), Threads: []struct{}{}}
		// A large guild sends only the caller (Discord sends those online;
		// the rest come by op 8).
		if g.Large {
			g.Members = []memberObject{renderMember(me)}
		} else {
			for _, m := range s.Members {
				g.Members = append(g.Members, renderMember(m))
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(g.Members, func(x, y memberObject) int { return cmp.Compare(x.User.ID, y.User.ID) })
	if err := a.withUsers(ctx, g.Members); err != nil {
		return nil, err
	}
	return json.Marshal(g)
}

// Members answers op 8 from the guild's state: by IDs, or by a prefix of
// username, global name or nick (case-insensitive, as Discord).
func (p gatewayProvider) Members(ctx context.Context, guildID snowflake.ID, q gateway.MemberQuery) ([]json.RawMessage, []snowflake.ID, error) {
	a := p.a
	var found []memberObject
	var notFound []snowflake.ID
	err := a.core.View(ctx, guildID, func(s *guild.State) error {
		if len(q.UserIDs) > 0 {
			for _, id := range q.UserIDs {
				if m := s.Members[id]; m != nil {
					found = append(found, renderMember(m))
				} else {
					notFound = append(notFound, id)
				}
			}
			return nil
		}
		for _, m := range s.Members {
			found = append(found, renderMember(m))
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	slices.SortFunc(found, func(x, y memberObject) int { return cmp.Compare(x.User.ID, y.User.ID) })
	if err := a.withUsers(ctx, found); err != nil {
		return nil, nil, err
	}
	prefix := strings.ToLower(q.Query)
	var out []json.RawMessage
	for _, m := range found {
		if q.Limit > 0 && len(out) >= q.Limit {
			break
		}
		if len(q.UserIDs) == 0 && prefix != "" && !memberMatches(m, prefix) {
			continue
		}
		data, err := json.Marshal(m)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, data)
	}
	return out, notFound, nil
}

func memberMatches(m memberObject, prefix string) bool {
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
// gateway asks from its fan-out, which must not hang on storage.
const canViewTimeout = 2 * time.Second

func (p gatewayProvider) CanView(guildID, channelID, userID snowflake.ID) bool {
	ctx, cancel := context.WithTimeout(context.Background(), canViewTimeout)
	defer cancel()
	ok := false
	_ = p.a.core.View(ctx, guildID, func(s *guild.State) error {
		ok = s.Members[userID] != nil && s.Permissions(userID, channelID, p.a.nowMs()).Has(perm.ViewChannel)
		return nil
	})
	return ok
}
