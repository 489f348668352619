package guilds

import (
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"concord/clientapi/auth"
	"concord/clientapi/httperr"
	"concord/clientapi/jsonio"
	"concord/clientapi/objects"
	"concord/clientapi/params"
	"concord/federation/guild"
	"concord/federation/perm"
	"concord/federation/snowflake"
)

// maxReactionEmojis is how many different emoji one message may carry.
const maxReactionEmojis = 20

// pathEmoji reads {emoji}: a URL-encoded unicode emoji or name:id for a
// custom one, which must be an emoji this node knows. Anything else is
// Discord's Unknown Emoji.
func (a *API) pathEmoji(r *http.Request) (guild.Emoji, error) {
	raw := chi.URLParam(r, "emoji")
	if s, err := url.PathUnescape(raw); err == nil {
		raw = s
	}
	if i := strings.LastIndexByte(raw, ':'); i >= 0 {
		// name:id, or a:name:id for an animated one; the ID decides.
		eid, err := snowflake.Parse(raw[i+1:])
		if err != nil {
			return guild.Emoji{}, httperr.UnknownEmoji
		}
		var stored string
		err = a.db.Reader().QueryRowContext(r.Context(), `SELECT name FROM emojis WHERE id = ?`, int64(eid)).Scan(&stored)
		if errors.Is(err, sql.ErrNoRows) {
			return guild.Emoji{}, httperr.UnknownEmoji
		}
		if err != nil {
			return guild.Emoji{}, fmt.Errorf("load emoji: %w", err)
		}
		return guild.Emoji{ID: eid, Name: stored}, nil
	}
	if !isUnicodeEmoji(raw) {
		return guild.Emoji{}, httperr.UnknownEmoji
	}
	return guild.Emoji{Name: raw}, nil
}

// isUnicodeEmoji accepts a short string made only of emoji code points and
// the joiners, selectors and modifiers that build sequences. Discord checks
// a fixed list; ranges keep us current with new emoji without one.
func isUnicodeEmoji(s string) bool {
	if s == "" || len(s) > 64 || !utf8.ValidString(s) {
		return false
	}
	pictographic := false
	for _, c := range s {
		switch {
		case c >= 0x1F000 && c <= 0x1FAFF, c >= 0x2600 && c <= 0x27BF, c >= 0x2B00 && c <= 0x2BFF,
			c >= 0x2190 && c <= 0x21FF, c >= 0x2300 && c <= 0x23FF, c >= 0x25A0 && c <= 0x25FF,
			c >= 0x2900 && c <= 0x297F, c >= 0x3030 && c <= 0x303D, c == 0x3297 || c == 0x3299,
			c == 0x00A9 || c == 0x00AE || c == 0x203C || c == 0x2049 || c == 0x2122 || c == 0x2139 || c == 0x24C2:
			pictographic = true
		case c == 0x200D, c >= 0xFE00 && c <= 0xFE0F, c == 0x20E3, c >= 0xE0020 && c <= 0xE007F:
			// joiner, variation selectors, keycap, tag sequences
		case c == '#' || c == '*' || unicode.IsDigit(c) && c < 0x80:
			// keycap bases
		default:
			return false
		}
	}
	return pictographic || strings.ContainsRune(s, 0x20E3)
}

// reactionTarget resolves the message and emoji of a reaction route.
func (a *API) reactionTarget(r *http.Request, need perm.Bits) (where, objects.MessageRow, guild.Emoji, error) {
	at, m, err := a.messageFor(r, need)
	if err != nil {
		return at, m, guild.Emoji{}, err
	}
	e, err := a.pathEmoji(r)
	return at, m, e, err
}

func (a *API) addReaction(w http.ResponseWriter, r *http.Request) error {
	at, m, e, err := a.reactionTarget(r, perm.ViewChannel|perm.ReadMessageHistory)
	if err != nil {
		return err
	}
	if err := a.notBlocked(r.Context(), auth.From(r).UserID, at.peer); err != nil {
		return err
	}
	var distinct, mine int
	err = a.db.Reader().QueryRowContext(r.Context(), `SELECT COUNT(DISTINCT emoji),
		SUM(CASE WHEN emoji = ? THEN 1 ELSE 0 END) FROM reactions WHERE guild_id = ? AND message_id = ? AND present = TRUE`,
		e.Key(), int64(at.guildID), int64(m.ID)).Scan(&distinct, &sqlNullInt{&mine})
	if err != nil {
		return fmt.Errorf("count reactions: %w", err)
	}
	if mine == 0 && distinct >= maxReactionEmojis {
		return httperr.MaxReactions
	}
	err = a.send(r.Context(), at.guildID, auth.From(r).UserID, guild.TypeReactionAdd,
		guild.Reaction{MessageID: m.ID, ChannelID: m.ChannelID, Emoji: e})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// sqlNullInt scans a possibly NULL integer (SUM over no rows) as 0.
type sqlNullInt struct{ dst *int }

func (s *sqlNullInt) Scan(v any) error {
	var n sql.NullInt64
	if err := n.Scan(v); err != nil {
		return err
	}
	*s.dst = int(n.Int64)
	return nil
}

func (a *API) removeReaction(w http.ResponseWriter, r *http.Request) error {
	at, m, e, err := a.reactionTarget(r, perm.ViewChannel)
	if err != nil {
		return err
	}
	me := auth.From(r).UserID
	target := me
	if u := chi.URLParam(r, "user_id"); u != "@me" {
		if target, err = snowflake.Parse(u); err != nil {
			return httperr.UnknownUser
		}
	}
	body := guild.Reaction{MessageID: m.ID, ChannelID: m.ChannelID, Emoji: e}
	if target != me {
		body.UserID = target // the rules ask for MANAGE_MESSAGES
	}
	if err := a.send(r.Context(), at.guildID, me, guild.TypeReactionRemove, body); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// removeReactions clears every reaction of a message, or those of one
// emoji when the route names it.
func (a *API) removeReactions(w http.ResponseWriter, r *http.Request) error {
	at, m, err := a.messageFor(r, perm.ViewChannel)
	if err != nil {
		return err
	}
	body := guild.ReactionRemoveAll{MessageID: m.ID, ChannelID: m.ChannelID}
	if chi.URLParam(r, "emoji") != "" {
		e, err := a.pathEmoji(r)
		if err != nil {
			return err
		}
		body.Emoji = &e
	}
	if err := a.send(r.Context(), at.guildID, auth.From(r).UserID, guild.TypeReactionRemoveAll, body); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// listReactionUsers pages the users who reacted with one emoji, by user ID.
func (a *API) listReactionUsers(w http.ResponseWriter, r *http.Request) error {
	at, m, e, err := a.reactionTarget(r, perm.ViewChannel|perm.ReadMessageHistory)
	if err != nil {
		return err
	}
	var form httperr.Form
	limit, err := params.Int(r, "limit", 25, 1, 100)
	if err != nil {
		form.Add("limit", "NUMBER_TYPE_MAX", "Value must be between 1 and 100.")
	}
	after, err := params.Snowflake(r, "after")
	if err != nil {
		form.Add("after", "NUMBER_TYPE_COERCE", "Value is not snowflake.")
	}
	if err := form.Err(); err != nil {
		return err
	}
	rows, err := a.db.Reader().QueryContext(r.Context(), `SELECT user_id FROM reactions
		WHERE guild_id = ? AND message_id = ? AND emoji = ? AND present = TRUE AND user_id > ? ORDER BY user_id LIMIT ?`,
		int64(at.guildID), int64(m.ID), e.Key(), int64(after), limit)
	if err != nil {
		return fmt.Errorf("list reactions: %w", err)
	}
	var ids []snowflake.ID
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("list reactions: %w", err)
		}
		ids = append(ids, snowflake.ID(id))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list reactions: %w", err)
	}
	users, err := a.objects.Users(r.Context(), ids)
	if err != nil {
		return err
	}
	out := make([]objects.User, len(ids))
	for i, id := range ids {
		out[i] = users[id]
	}
	jsonio.Write(w, http.StatusOK, out)
	return nil
}
