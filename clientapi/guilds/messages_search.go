package guilds

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"unicode"

	"concord/clientapi/auth"
	"concord/clientapi/httperr"
	"concord/clientapi/jsonio"
	"concord/clientapi/objects"
	"concord/clientapi/params"
	"concord/federation/guild"
	"concord/federation/perm"
	"concord/federation/snowflake"
	"concord/storage"
)

// Search limits: Discord pages by 25 and stops at an offset of 9975.
const (
	searchPage      = 25
	searchMaxOffset = 9975
	searchMaxTerms  = 16
)

// searchQuery is a parsed GET /guilds/{id}/messages/search.
type searchQuery struct {
	terms    []string // words of content, as the full-text index splits them
	authors  []snowflake.ID
	channels []snowflake.ID // asked for; empty means every visible one
	has      []string
	minID    snowflake.ID // exclusive
	maxID    snowflake.ID // exclusive
	limit    int
	offset   int
	asc      bool
}

type searchResult struct {
	TotalResults int                 `json:"total_results"`
	Messages     [][]objects.Message `json:"messages"`
	// Discord's clients read these two; Concord indexes as it accepts.
	DoingDeepHistoricalIndex bool    `json:"doing_deep_historical_index"`
	AnalyticsID              *string `json:"analytics_id"`
}

// searchMessages is GET /guilds/{guild_id}/messages/search: Discord's
// message search over the channels the caller can view and read the
// history of. Each hit is a one-message list, as Discord sends it.
func (a *API) searchMessages(w http.ResponseWriter, r *http.Request) error {
	gid, err := params.ID(r, "guild_id", httperr.UnknownGuild)
	if err != nil {
		return err
	}
	q, err := parseSearch(r)
	if err != nil {
		return err
	}
	user := auth.From(r).UserID
	var visible []snowflake.ID
	err = a.inGuild(r.Context(), gid, user, func(s *guild.State, _ *guild.Member) error {
		visible = searchableChannels(s, user, q.channels, a.nowMs())
		return nil
	})
	if err != nil {
		return err
	}
	out := searchResult{Messages: [][]objects.Message{}}
	if len(visible) > 0 && !(q.terms != nil && len(q.terms) == 0) {
		rows, total, err := a.runSearch(r.Context(), gid, visible, q)
		if err != nil {
			return err
		}
		out.TotalResults = total
		objs, err := a.renderSearch(r.Context(), gid, user, rows)
		if err != nil {
			return err
		}
		for _, o := range objs {
			out.Messages = append(out.Messages, []objects.Message{o})
		}
	}
	jsonio.Write(w, http.StatusOK, out)
	return nil
}

// searchableChannels is the channels whose messages user may find: those
// with VIEW_CHANNEL and READ_MESSAGE_HISTORY, narrowed to asked when set.
func searchableChannels(s *guild.State, user snowflake.ID, asked []snowflake.ID, now int64) []snowflake.ID {
	want := map[snowflake.ID]bool{}
	for _, id := range asked {
		want[id] = true
	}
	var out []snowflake.ID
	for id, ch := range s.Channels {
		if ch.Type == guild.ChannelCategory || (len(asked) > 0 && !want[id]) {
			continue
		}
		if s.Permissions(user, id, now).Has(perm.ViewChannel | perm.ReadMessageHistory) {
			out = append(out, id)
		}
	}
	return out
}

func parseSearch(r *http.Request) (searchQuery, error) {
	v := r.URL.Query()
	q := searchQuery{asc: v.Get("sort_order") == "asc"}
	var form httperr.Form
	if c, ok := v["content"]; ok && strings.TrimSpace(strings.Join(c, " ")) != "" {
		q.terms = searchTerms(strings.Join(c, " "))
		if q.terms == nil {
			q.terms = []string{} // only punctuation: nothing can match
		}
	}
	ids := func(name string) []snowflake.ID {
		var out []snowflake.ID
		for _, s := range v[name] {
			id, err := snowflake.Parse(s)
			if err != nil {
				form.Add(name, "NUMBER_TYPE_COERCE", "Value is not snowflake.")
				continue
			}
			out = append(out, id)
		}
		return out
	}
	q.authors = ids("author_id")
	q.channels = ids("channel_id")
	bound := func(names ...string) snowflake.ID {
		for _, n := range names {
			if id := ids(n); len(id) > 0 {
				return id[0]
			}
		}
		return 0
	}
	q.minID = bound("min_id", "after")
	q.maxID = bound("max_id", "before")
	for _, h := range v["has"] {
		if _, ok := hasFilters[h]; !ok {
			form.Add("has", "BASE_TYPE_CHOICES", "Value must be one of link, embed, file, image, video, sound, sticker.")
			continue
		}
		q.has = append(q.has, h)
	}
	if err := form.Err(); err != nil {
		return q, err
	}
	var err error
	if q.limit, err = params.Int(r, "limit", searchPage, 1, searchPage); err != nil {
		return q, err
	}
	if q.offset, err = params.Int(r, "offset", 0, 0, searchMaxOffset); err != nil {
		return q, err
	}
	return q, nil
}

// searchTerms splits text into lower-case words the way both indexes do
// (letters and digits; anything else separates), at most searchMaxTerms.
func searchTerms(text string) []string {
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	if len(words) > searchMaxTerms {
		words = words[:searchMaxTerms]
	}
	return words
}

// hasFilters are Discord's has= values as conditions on messages m.
// Concord has no stickers yet, so has=sticker matches nothing.
var hasFilters = map[string]string{
	"link":    `(m.content LIKE '%http://%' OR m.content LIKE '%https://%')`,
	"embed":   `m.embeds <> '[]'`,
	"file":    `EXISTS (SELECT 1 FROM message_attachments t WHERE t.guild_id = m.guild_id AND t.message_id = m.id)`,
	"image":   `EXISTS (SELECT 1 FROM message_attachments t WHERE t.guild_id = m.guild_id AND t.message_id = m.id AND t.content_type LIKE 'image/%')`,
	"video":   `EXISTS (SELECT 1 FROM message_attachments t WHERE t.guild_id = m.guild_id AND t.message_id = m.id AND t.content_type LIKE 'video/%')`,
	"sound":   `EXISTS (SELECT 1 FROM message_attachments t WHERE t.guild_id = m.guild_id AND t.message_id = m.id AND t.content_type LIKE 'audio/%')`,
	"sticker": `FALSE`,
}

// runSearch finds one page of matches and how many there are in all.
func (a *API) runSearch(ctx context.Context, gid snowflake.ID, channels []snowflake.ID, q searchQuery) ([]objects.MessageRow, int, error) {
	where := []string{"m.guild_id = ?", "m.channel_id IN (?" + strings.Repeat(", ?", len(channels)-1) + ")",
		"m.deleted = FALSE", "m.hidden = FALSE"}
	args := append([]any{int64(gid)}, objects.Int64Args(channels)...)
	from := "messages m"
	if len(q.terms) > 0 {
		var arg any
		from, arg = matchFrom(a.db.Driver(), q.terms)
		args = append([]any{arg}, args...) // the FROM's placeholder comes first
	}
	if len(q.authors) > 0 {
		where = append(where, "m.author_id IN (?"+strings.Repeat(", ?", len(q.authors)-1)+")")
		args = append(args, objects.Int64Args(q.authors)...)
	}
	if q.minID != 0 {
		where, args = append(where, "m.id > ?"), append(args, int64(q.minID))
	}
	if q.maxID != 0 {
		where, args = append(where, "m.id < ?"), append(args, int64(q.maxID))
	}
	for _, h := range q.has {
		where = append(where, hasFilters[h])
	}
	order := "DESC"
	if q.asc {
		order = "ASC"
	}
	cols := "m." + strings.ReplaceAll(objects.MessageColumns, ", ", ", m.")
	query := `SELECT ` + cols + `, COUNT(*) OVER () FROM ` + from + ` WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY m.id ` + order + ` LIMIT ? OFFSET ?`
	rows, err := a.db.Reader().QueryContext(ctx, query, append(args, q.limit, q.offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("search messages: %w", err)
	}
	defer rows.Close()
	var out []objects.MessageRow
	total := 0
	for rows.Next() {
		m, err := objects.ScanMessage(rows, &total)
		if err != nil {
			return nil, 0, fmt.Errorf("search messages: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("search messages: %w", err)
	}
	if len(out) == 0 && q.offset > 0 {
		// Past the last page the window has no row to count on.
		err = a.db.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM `+from+` WHERE `+strings.Join(where, " AND "), args...).Scan(&total)
	}
	return out, total, err
}

// matchFrom is the one dialect difference of search: the messages whose
// content holds every term, through FTS4 on SQLite and a tsvector on
// PostgreSQL (0004_search.*.sql), as the FROM of the search and its one
// argument. The search starts from the index on both: left to themselves,
// both planners walk messages in ID order (for ORDER BY … LIMIT) or by
// channel and test each against the index, which grows with the guild, not
// with the matches. SQLite never reorders a CROSS JOIN; PostgreSQL does not
// flatten a subquery with OFFSET.
func matchFrom(driver string, terms []string) (string, any) {
	if driver == storage.Postgres {
		return `(SELECT * FROM messages WHERE content_tsv @@ plainto_tsquery('simple', ?) OFFSET 0) m`, strings.Join(terms, " ")
	}
	quoted := make([]string, len(terms))
	for i, t := range terms {
		quoted[i] = `"` + t + `"` // terms hold only letters and digits
	}
	return `messages_fts CROSS JOIN messages m ON m.rowid = messages_fts.docid AND messages_fts MATCH ?`, strings.Join(quoted, " ")
}

// renderSearch renders hits with the message renderer, one channel at a
// time (it resolves replies within a channel), keeping the hits' order.
func (a *API) renderSearch(ctx context.Context, gid, viewer snowflake.ID, rows []objects.MessageRow) ([]objects.Message, error) {
	byChannel := map[snowflake.ID][]int{}
	for i, m := range rows {
		byChannel[m.ChannelID] = append(byChannel[m.ChannelID], i)
	}
	out := make([]objects.Message, len(rows))
	for ch, idx := range byChannel {
		part := make([]objects.MessageRow, len(idx))
		for j, i := range idx {
			part[j] = rows[i]
		}
		objs, err := a.renderMessages(ctx, where{guildID: gid, channel: ch}, viewer, part)
		if err != nil {
			return nil, err
		}
		for j, i := range idx {
			out[i] = objs[j]
		}
	}
	return out, nil
}
