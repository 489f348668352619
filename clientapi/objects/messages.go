package objects

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"concord/clientapi/httperr"
	"concord/clientapi/shortcache"
	"concord/clientapi/signedurl"
	"concord/federation/guild"
	"concord/federation/snowflake"
	"concord/storage"
)

// Place is where messages are: a guild channel, or a DM room's one
// channel, whose ID is the room's.
type Place struct {
	Room    snowflake.ID // the guild, or the DM room
	Channel snowflake.ID
	DM      bool
}

// Members returns the member objects, without users, of those among ids
// who belong to a message's guild; a renderer calls it once per page.
type Members func(ids []snowflake.ID) map[snowflake.ID]Member

// Renderer reads and renders messages: it knows the node's storage and the
// base of its attachment URLs.
type Renderer struct {
	db        storage.Querier
	publicURL string
	signer    *signedurl.Signer

	// users keeps rendered users for a few seconds, since every message
	// sent renders its author. ForgetUser drops one at once; forgets
	// counts the calls, so that a read that raced one is not kept.
	users   *shortcache.Cache[snowflake.ID, User]
	forgets atomic.Uint64
}

// userTTL bounds how long a user changed by another process on the same
// database (an operator command) renders as before.
const userTTL = 10 * time.Second

// NewRenderer renders from db; publicURL ([http] public_url) is the base of
// attachment URLs, empty for root-relative ones, and signer signs them
// (nil leaves them unsigned, which the node's CDN refuses: for tests that
// never fetch a file).
func NewRenderer(db storage.Querier, publicURL string, signer *signedurl.Signer) *Renderer {
	return &Renderer{db: db, publicURL: strings.TrimSuffix(publicURL, "/"), signer: signer,
		users: shortcache.New[snowflake.ID, User](userTTL, 100_000)}
}

// AttachmentPath is what an attachment's URL signature covers: its CDN
// path with the file name unescaped.
func AttachmentPath(ch, id snowflake.ID, filename string) string {
	return "/attachments/" + ch.String() + "/" + id.String() + "/" + filename
}

// PublicURL is [http] public_url without a trailing slash, "" when unset.
func (r *Renderer) PublicURL() string { return r.publicURL }

// Users reads users by ID (LoadUsers on the node's storage), from the
// cache where it can.
func (r *Renderer) Users(ctx context.Context, ids []snowflake.ID) (map[snowflake.ID]User, error) {
	now := time.Now()
	out := make(map[snowflake.ID]User, len(ids))
	var missing []snowflake.ID
	for _, id := range ids {
		if u, ok := r.users.Get(id, now); ok {
			out[id] = u
		} else {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	forgets := r.forgets.Load()
	loaded, err := LoadUsers(ctx, r.db, missing)
	if err != nil {
		return nil, err
	}
	keep := r.forgets.Load() == forgets
	for id, u := range loaded {
		out[id] = u
		if keep {
			r.users.Put(id, u, now)
		}
	}
	return out, nil
}

// ForgetUser drops a user's cached rendering: whoever changes a user on
// this node (a profile, a remote user's signed profile) calls it after the
// change is stored.
func (r *Renderer) ForgetUser(id snowflake.ID) {
	r.forgets.Add(1)
	r.users.Delete(id)
}

// WithUsers fills in members' users (WithUsers on the node's storage).
func (r *Renderer) WithUsers(ctx context.Context, members []Member) error {
	return WithUsers(ctx, r.db, members)
}

// Message reads one visible message of a place; any other answers Unknown
// Message.
func (r *Renderer) Message(ctx context.Context, p Place, id snowflake.ID) (MessageRow, error) {
	m, err := ScanMessage(r.db.QueryRowContext(ctx, `SELECT `+MessageColumns+` FROM messages
		WHERE guild_id = ? AND channel_id = ? AND id = ? AND `+VisibleMessage, int64(p.Room), int64(p.Channel), int64(id)))
	if errors.Is(err, sql.ErrNoRows) {
		return m, httperr.UnknownMessage
	}
	if err != nil {
		return m, fmt.Errorf("load message %s: %w", id, err)
	}
	return m, nil
}

// Query reads the messages of a place that a condition on the messages
// table selects. Messages are keyed by room: another room's messages with
// the same channel or message IDs are never read.
func (r *Renderer) Query(ctx context.Context, p Place, cond string, args ...any) ([]MessageRow, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT `+MessageColumns+` FROM messages WHERE guild_id = ? AND channel_id = ? AND `+cond,
		append([]any{int64(p.Room), int64(p.Channel)}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("list messages: %w", err)
	}
	defer rows.Close()
	var out []MessageRow
	for rows.Next() {
		m, err := ScanMessage(rows)
		if err != nil {
			return nil, fmt.Errorf("list messages: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// Render renders rows as viewer sees them: users, members (in guilds,
// from members), reactions with "me", and for replies the message replied
// to. fresh rows were just sent and cannot have reactions yet, which saves
// a send a query.
func (r *Renderer) Render(ctx context.Context, p Place, viewer snowflake.ID, rows []MessageRow, members Members, fresh bool) ([]Message, error) {
	out := make([]Message, len(rows))
	mentions := make([][]snowflake.ID, len(rows))
	var users, refs []snowflake.ID
	for i, m := range rows {
		out[i], mentions[i] = r.renderRow(m, p.DM)
		if out[i].WebhookID == nil || out[i].Interaction != nil {
			users = append(users, m.AuthorID)
		}
		users = append(users, mentions[i]...)
		if in := out[i].Interaction; in != nil {
			users = append(users, in.User.ID)
		}
		if m.ReferenceID != 0 {
			refs = append(refs, m.ReferenceID)
		}
	}
	refObjs := map[snowflake.ID]*Message{}
	if len(refs) > 0 {
		refRows, err := r.Query(ctx, p, VisibleMessage+` AND id IN (?`+Placeholders(len(refs)-1)+`)`, Int64Args(refs)...)
		if err != nil {
			return nil, err
		}
		for _, m := range refRows {
			o, _ := r.renderRow(m, p.DM)
			refObjs[m.ID] = &o
			if o.WebhookID == nil || o.Interaction != nil {
				users = append(users, m.AuthorID)
			}
		}
	}
	slices.Sort(users)
	users = slices.Compact(users)
	byID, err := r.Users(ctx, users)
	if err != nil {
		return nil, err
	}
	var byMember map[snowflake.ID]Member
	if !p.DM && members != nil {
		byMember = members(users)
	}
	fill := func(o *Message) {
		if o.WebhookID != nil && o.Interaction == nil {
			return // a webhook's message shows the author it was posted with
		}
		o.Author = byID[o.Author.ID]
		if m, ok := byMember[o.Author.ID]; ok {
			m.User = nil // a message's member is partial: the user is the author
			o.Member = &m
		}
	}
	reactions := map[snowflake.ID][]Reaction{}
	if !fresh {
		if reactions, err = r.reactions(ctx, p, viewer, rows); err != nil {
			return nil, err
		}
	}
	for i := range out {
		fill(&out[i])
		for _, id := range mentions[i] {
			out[i].Mentions = append(out[i].Mentions, byID[id])
		}
		out[i].Reactions = reactions[out[i].ID]
		if in := out[i].Interaction; in != nil {
			in.User = byID[in.User.ID]
			out[i].InteractionMetadata.User = in.User
		}
		if ref := rows[i].ReferenceID; ref != 0 {
			o := refObjs[ref]
			if o != nil {
				cp := *o
				fill(&cp)
				o = &cp
			}
			out[i].ReferencedMessage = &o
		}
	}
	return out, nil
}

// renderRow turns a row into the object, leaving users, member, reactions
// and the referenced message to Render.
func (r *Renderer) renderRow(m MessageRow, dm bool) (Message, []snowflake.ID) {
	o := Message{ID: m.ID, ChannelID: m.ChannelID, Author: User{ID: m.AuthorID}, Content: m.Content,
		Timestamp: ISOTime(m.CreatedAt), TTS: m.TTS, MentionEveryone: m.MentionEveryone, Pinned: m.Pinned,
		Type: messageDefault, Flags: m.Flags, Mentions: []User{}, MentionRoles: []snowflake.ID{},
		Attachments: []Attachment{}, Embeds: []json.RawMessage{}}
	if !dm {
		o.GuildID = &m.GuildID
	}
	if m.EditedAt != 0 {
		t := ISOTime(m.EditedAt)
		o.EditedTimestamp = &t
	}
	var mentions []snowflake.ID
	json.Unmarshal([]byte(m.Mentions), &mentions)
	json.Unmarshal([]byte(m.MentionRoles), &o.MentionRoles)
	json.Unmarshal([]byte(m.Embeds), &o.Embeds)
	if o.MentionRoles == nil {
		o.MentionRoles = []snowflake.ID{}
	}
	if o.Embeds == nil {
		o.Embeds = []json.RawMessage{}
	}
	var files []guild.Attachment
	json.Unmarshal([]byte(m.Attachments), &files)
	for _, f := range files {
		o.Attachments = append(o.Attachments, r.Attachment(m.ChannelID, f))
	}
	if m.ReferenceID != 0 {
		o.Type = messageReply
		o.MessageReference = &MessageRef{MessageID: m.ReferenceID, ChannelID: m.ChannelID, GuildID: o.GuildID}
	}
	json.Unmarshal([]byte(m.Components), &o.Components)
	if o.Components == nil {
		o.Components = []json.RawMessage{}
	}
	var hook guild.WebhookAuthor
	if m.Webhook != "" && json.Unmarshal([]byte(m.Webhook), &hook) == nil {
		o.WebhookID = &m.AuthorID
		o.Author = WebhookUser(m.AuthorID, hook.Name, hook.Avatar)
	}
	var in guild.MessageInteraction
	if m.Interaction != "" && json.Unmarshal([]byte(m.Interaction), &in) == nil {
		// A bot answers as its application: the two share an ID.
		o.ApplicationID, o.WebhookID = &m.AuthorID, &m.AuthorID
		o.Interaction = &Interaction{ID: in.ID, Type: in.Type, Name: in.Name, User: User{ID: in.UserID}}
		o.InteractionMetadata = &InteractionMetadata{ID: in.ID, Type: in.Type, Name: in.Name, User: User{ID: in.UserID},
			AuthorizingIntegrationOwners: map[string]snowflake.ID{}}
		if in.Type == 2 && o.Type == messageDefault {
			o.Type = messageChatInput
		}
	}
	return o, mentions
}

// Attachment renders a file of a message in channel ch. The node is its
// own CDN, so url and proxy_url are the same: signed, and good for
// signedurl.TTL, as Discord's CDN URLs are.
func (r *Renderer) Attachment(ch snowflake.ID, at guild.Attachment) Attachment {
	u := r.publicURL + "/attachments/" + ch.String() + "/" + at.ID.String() + "/" + url.PathEscape(at.Filename)
	if r.signer != nil {
		u += "?" + r.signer.Query(AttachmentPath(ch, at.ID, at.Filename))
	}
	o := Attachment{ID: at.ID, Filename: at.Filename, Size: at.Size, URL: u, ProxyURL: u, ContentType: at.ContentType}
	if at.Width > 0 && at.Height > 0 {
		w, h := at.Width, at.Height
		o.Width, o.Height = &w, &h
	}
	return o
}

// reactions counts the present reactions of rows per emoji, in the order
// each emoji first appeared, and marks viewer's own.
func (r *Renderer) reactions(ctx context.Context, p Place, viewer snowflake.ID, rows []MessageRow) (map[snowflake.ID][]Reaction, error) {
	out := map[snowflake.ID][]Reaction{}
	if len(rows) == 0 {
		return out, nil
	}
	ids := make([]snowflake.ID, len(rows))
	for i, m := range rows {
		ids[i] = m.ID
	}
	q, err := r.db.QueryContext(ctx, `SELECT message_id, MAX(emoji_id), MAX(emoji_name), COUNT(*),
		SUM(CASE WHEN user_id = ? THEN 1 ELSE 0 END), MIN(decided_by)
		FROM reactions WHERE guild_id = ? AND present = TRUE AND message_id IN (?`+Placeholders(len(ids)-1)+`)
		GROUP BY message_id, emoji ORDER BY message_id, MIN(decided_by)`,
		append([]any{int64(viewer), int64(p.Room)}, Int64Args(ids)...)...)
	if err != nil {
		return nil, fmt.Errorf("load reactions: %w", err)
	}
	defer q.Close()
	for q.Next() {
		var mid, eid int64
		var name, first string
		var count, me int
		if err := q.Scan(&mid, &eid, &name, &count, &me, &first); err != nil {
			return nil, fmt.Errorf("load reactions: %w", err)
		}
		rc := Reaction{Count: count, CountDetails: ReactionCounts{Normal: count}, Me: me > 0,
			Emoji: ReactionEmoji{Name: name}, BurstColors: []string{}}
		if eid != 0 {
			id := snowflake.ID(eid)
			rc.Emoji.ID = &id
		}
		out[snowflake.ID(mid)] = append(out[snowflake.ID(mid)], rc)
	}
	return out, q.Err()
}

// EmojiOf renders an emoji of an event as a reaction's partial emoji.
func EmojiOf(e guild.Emoji) *ReactionEmoji {
	return &ReactionEmoji{ID: NonZero(e.ID), Name: e.Name}
}
