package guilds

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"concord/clientapi/jsonio"
	"concord/clientapi/params"
)

// Tools that speak Slack's or GitHub's webhook format post to a webhook's
// /slack or /github URL; each payload becomes a message as Discord makes
// it, and goes through postAsWebhook like any other.

// maxForeignBody bounds a Slack or GitHub payload; GitHub's push events
// list up to 20 commits with their files and can be large.
const maxForeignBody = 1 << 20

// slackBody is Slack's incoming webhook payload, the parts a message shows.
type slackBody struct {
	Text        string            `json:"text"`
	Username    string            `json:"username"`
	IconURL     string            `json:"icon_url"`
	Attachments []slackAttachment `json:"attachments"`
}

type slackAttachment struct {
	Fallback   string       `json:"fallback"`
	Color      string       `json:"color"`
	Pretext    string       `json:"pretext"`
	AuthorName string       `json:"author_name"`
	AuthorLink string       `json:"author_link"`
	AuthorIcon string       `json:"author_icon"`
	Title      string       `json:"title"`
	TitleLink  string       `json:"title_link"`
	Text       string       `json:"text"`
	Fields     []slackField `json:"fields"`
	ImageURL   string       `json:"image_url"`
	ThumbURL   string       `json:"thumb_url"`
	Footer     string       `json:"footer"`
	FooterIcon string       `json:"footer_icon"`
	TS         json.Number  `json:"ts"`
}

type slackField struct {
	Title string `json:"title"`
	Value string `json:"value"`
	Short bool   `json:"short"`
}

// slackColors are the names Slack gives colors.
var slackColors = map[string]int{"good": 0x2eb886, "warning": 0xdaa038, "danger": 0xa30200}

// slackLink is Slack's <url|label> or <url>.
var slackLink = regexp.MustCompile(`<((?:https?|mailto):[^|>]+)(?:\|([^>]+))?>`)

// slackText turns Slack's markup into Discord's markdown.
func slackText(s string) string {
	s = slackLink.ReplaceAllStringFunc(s, func(m string) string {
		p := slackLink.FindStringSubmatch(m)
		if p[2] == "" {
			return p[1]
		}
		return "[" + p[2] + "](" + p[1] + ")"
	})
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
}

// SlackWebhook is POST /webhooks/{webhook_id}/{token}/slack.
func (a *API) SlackWebhook(w http.ResponseWriter, r *http.Request) error {
	gid, hook, err := a.posting(w, r)
	if err != nil || hook.ID == 0 {
		return err
	}
	var in slackBody
	if err := jsonio.Decode(r, maxForeignBody, &in); err != nil {
		return err
	}
	body := &executeBody{Username: in.Username, AvatarURL: in.IconURL}
	body.Content = slackText(in.Text)
	for _, at := range in.Attachments {
		e := embedBody{Title: clip(at.Title, 256), URL: at.TitleLink, Description: clip(slackText(at.Text), 4096)}
		if e.Title == "" && e.Description == "" && len(at.Fields) == 0 {
			e.Description = clip(slackText(at.Fallback), 4096)
		}
		if at.Pretext != "" && body.Content == "" {
			body.Content = slackText(at.Pretext)
		}
		if c, ok := slackColor(at.Color); ok {
			e.Color = &c
		}
		if at.AuthorName != "" {
			e.Author = &embedAuthor{Name: clip(at.AuthorName, 256), URL: at.AuthorLink, IconURL: at.AuthorIcon}
		}
		for _, f := range at.Fields {
			if len(e.Fields) < maxEmbedFields {
				e.Fields = append(e.Fields, embedField{Name: clip(orDash(f.Title), 256), Value: clip(orDash(slackText(f.Value)), 1024), Inline: f.Short})
			}
		}
		if at.ImageURL != "" {
			e.Image = &embedMedia{URL: at.ImageURL}
		}
		if at.ThumbURL != "" {
			e.Thumbnail = &embedMedia{URL: at.ThumbURL}
		}
		if at.Footer != "" {
			e.Footer = &embedFooter{Text: clip(at.Footer, 2048), IconURL: at.FooterIcon}
		}
		if ts, err := at.TS.Float64(); err == nil && ts > 0 {
			e.Timestamp = time.Unix(int64(ts), 0).UTC().Format(time.RFC3339)
		}
		body.Embeds = append(body.Embeds, e)
	}
	if !params.Bool(r, "wait") {
		// Slack's tools read "ok" as success.
		return a.postAsWebhook(okWriter{w}, r, gid, hook, body, nil)
	}
	return a.postAsWebhook(w, r, gid, hook, body, nil)
}

// okWriter turns postAsWebhook's 204 into Slack's 200 "ok".
type okWriter struct{ http.ResponseWriter }

func (o okWriter) WriteHeader(status int) {
	if status != http.StatusNoContent {
		o.ResponseWriter.WriteHeader(status)
		return
	}
	o.Header().Set("Content-Type", "text/plain; charset=utf-8")
	o.ResponseWriter.WriteHeader(http.StatusOK)
	o.ResponseWriter.Write([]byte("ok"))
}

func slackColor(c string) (int, bool) {
	if v, ok := slackColors[c]; ok {
		return v, true
	}
	v, err := strconv.ParseUint(strings.TrimPrefix(c, "#"), 16, 24)
	return int(v), err == nil && c != ""
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}

// clip cuts s to at most n characters, marking the cut.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// githubEvent is what the GitHub events Concord shows carry.
type githubEvent struct {
	Action  string `json:"action"`
	Ref     string `json:"ref"`
	Compare string `json:"compare"`
	Forced  bool   `json:"forced"`
	Commits []struct {
		ID      string `json:"id"`
		Message string `json:"message"`
		URL     string `json:"url"`
		Author  struct {
			Name     string `json:"name"`
			Username string `json:"username"`
		} `json:"author"`
	} `json:"commits"`
	Repository struct {
		FullName string `json:"full_name"`
		HTMLURL  string `json:"html_url"`
	} `json:"repository"`
	Sender  githubUser  `json:"sender"`
	Issue   *githubItem `json:"issue"`
	Pull    *githubItem `json:"pull_request"`
	Comment *struct {
		Body    string `json:"body"`
		HTMLURL string `json:"html_url"`
	} `json:"comment"`
	Release *struct {
		TagName string `json:"tag_name"`
		Name    string `json:"name"`
		Body    string `json:"body"`
		HTMLURL string `json:"html_url"`
	} `json:"release"`
	Forkee *struct {
		FullName string `json:"full_name"`
		HTMLURL  string `json:"html_url"`
	} `json:"forkee"`
}

type githubUser struct {
	Login     string `json:"login"`
	AvatarURL string `json:"avatar_url"`
	HTMLURL   string `json:"html_url"`
}

type githubItem struct {
	Number  int    `json:"number"`
	Title   string `json:"title"`
	Body    string `json:"body"`
	HTMLURL string `json:"html_url"`
	Merged  bool   `json:"merged"`
}

// GitHub's colors, as Discord shows its events.
const (
	githubPush    = 0x7289da
	githubOpened  = 0xeb6420
	githubClosed  = 0x000000
	githubPull    = 0x009800
	githubComment = 0xe68d60
)

// GitHubWebhook is POST /webhooks/{webhook_id}/{token}/github: the events
// of a repository's webhook (content type application/json). Events it
// does not show are acknowledged and dropped, as on Discord.
func (a *API) GitHubWebhook(w http.ResponseWriter, r *http.Request) error {
	gid, hook, err := a.posting(w, r)
	if err != nil || hook.ID == 0 {
		return err
	}
	var ev githubEvent
	if err := jsonio.Decode(r, maxForeignBody, &ev); err != nil {
		return err
	}
	e, ok := githubEmbed(r.Header.Get("X-GitHub-Event"), &ev)
	if !ok {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	e.Author = &embedAuthor{Name: clip(ev.Sender.Login, 256), URL: ev.Sender.HTMLURL, IconURL: ev.Sender.AvatarURL}
	body := &executeBody{Username: "GitHub"}
	body.Embeds = []embedBody{e}
	return a.postAsWebhook(w, r, gid, hook, body, nil)
}

// githubEmbed renders one GitHub event; false for one Concord does not show.
func githubEmbed(kind string, ev *githubEvent) (embedBody, bool) {
	repo := ev.Repository.FullName
	color := func(c int) *int { return &c }
	item := func(verb, what string, it *githubItem, c int) (embedBody, bool) {
		if it == nil {
			return embedBody{}, false
		}
		return embedBody{Title: clip(fmt.Sprintf("[%s] %s %s: #%d %s", repo, what, verb, it.Number, it.Title), 256),
			URL: it.HTMLURL, Description: clip(it.Body, 500), Color: color(c)}, true
	}
	switch kind {
	case "push":
		if len(ev.Commits) == 0 {
			return embedBody{}, false // a branch deleted or a tag pushed
		}
		branch := strings.TrimPrefix(ev.Ref, "refs/heads/")
		noun := "commits"
		if len(ev.Commits) == 1 {
			noun = "commit"
		}
		var lines []string
		for _, c := range ev.Commits {
			short := c.ID
			if len(short) > 7 {
				short = short[:7]
			}
			msg, _, _ := strings.Cut(c.Message, "\n")
			lines = append(lines, fmt.Sprintf("[`%s`](%s) %s - %s", short, c.URL, clip(msg, 50), c.Author.Name))
		}
		title := fmt.Sprintf("[%s:%s] %d new %s", repo, branch, len(ev.Commits), noun)
		if ev.Forced {
			title += " (force-pushed)"
		}
		return embedBody{Title: clip(title, 256), URL: ev.Compare, Description: clip(strings.Join(lines, "\n"), 4096), Color: color(githubPush)}, true
	case "issues":
		switch ev.Action {
		case "opened":
			return item("opened", "Issue", ev.Issue, githubOpened)
		case "closed":
			return item("closed", "Issue", ev.Issue, githubClosed)
		case "reopened":
			return item("reopened", "Issue", ev.Issue, githubOpened)
		}
	case "pull_request":
		switch ev.Action {
		case "opened":
			return item("opened", "Pull request", ev.Pull, githubPull)
		case "closed":
			if ev.Pull != nil && ev.Pull.Merged {
				return item("merged", "Pull request", ev.Pull, githubPull)
			}
			return item("closed", "Pull request", ev.Pull, githubClosed)
		case "reopened":
			return item("reopened", "Pull request", ev.Pull, githubPull)
		}
	case "issue_comment":
		if ev.Action != "created" || ev.Issue == nil || ev.Comment == nil {
			return embedBody{}, false
		}
		return embedBody{Title: clip(fmt.Sprintf("[%s] New comment on #%d: %s", repo, ev.Issue.Number, ev.Issue.Title), 256),
			URL: ev.Comment.HTMLURL, Description: clip(ev.Comment.Body, 500), Color: color(githubComment)}, true
	case "release":
		if ev.Action != "published" || ev.Release == nil {
			return embedBody{}, false
		}
		return embedBody{Title: clip(fmt.Sprintf("[%s] New release published: %s", repo, ev.Release.TagName), 256),
			URL: ev.Release.HTMLURL, Description: clip(ev.Release.Body, 500)}, true
	case "star", "watch":
		if ev.Action != "created" && ev.Action != "started" {
			return embedBody{}, false
		}
		return embedBody{Title: clip(fmt.Sprintf("[%s] New star added", repo), 256), URL: ev.Repository.HTMLURL}, true
	case "fork":
		if ev.Forkee == nil {
			return embedBody{}, false
		}
		return embedBody{Title: clip(fmt.Sprintf("[%s] Fork created: %s", repo, ev.Forkee.FullName), 256), URL: ev.Forkee.HTMLURL}, true
	}
	return embedBody{}, false
}
