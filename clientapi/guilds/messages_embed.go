package guilds

import (
	"encoding/json"
	"net/url"
	"strconv"
	"unicode/utf8"

	"concord/clientapi/httperr"
	"concord/federation/guild"
)

// embedBody is Discord's rich embed. Decoding into it, rather than keeping
// the client's JSON, makes every stored embed well typed: discordgo refuses
// a whole message if one embed field has the wrong JSON type.
type embedBody struct {
	Title       string       `json:"title,omitempty"`
	Type        string       `json:"type,omitempty"`
	Description string       `json:"description,omitempty"`
	URL         string       `json:"url,omitempty"`
	Timestamp   string       `json:"timestamp,omitempty"`
	Color       *int         `json:"color,omitempty"`
	Footer      *embedFooter `json:"footer,omitempty"`
	Image       *embedMedia  `json:"image,omitempty"`
	Thumbnail   *embedMedia  `json:"thumbnail,omitempty"`
	Video       *embedMedia  `json:"video,omitempty"`
	Provider    *embedNamed  `json:"provider,omitempty"`
	Author      *embedAuthor `json:"author,omitempty"`
	Fields      []embedField `json:"fields,omitempty"`
}

type embedFooter struct {
	Text    string `json:"text"`
	IconURL string `json:"icon_url,omitempty"`
}

type embedMedia struct {
	URL    string `json:"url"`
	Height int    `json:"height,omitempty"`
	Width  int    `json:"width,omitempty"`
}

type embedNamed struct {
	Name string `json:"name,omitempty"`
	URL  string `json:"url,omitempty"`
}

type embedAuthor struct {
	Name    string `json:"name"`
	URL     string `json:"url,omitempty"`
	IconURL string `json:"icon_url,omitempty"`
}

type embedField struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Inline bool   `json:"inline,omitempty"`
}

// Discord's embed limits.
const (
	maxEmbedTotal  = 6000
	maxEmbedFields = 25
)

// embedsJSON checks embeds against Discord's limits and returns them as
// the event carries them.
func embedsJSON(embeds []embedBody, form *httperr.Form) []json.RawMessage {
	if len(embeds) > guild.MaxEmbeds {
		form.Add("embeds", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
		return nil
	}
	var out []json.RawMessage
	total := 0
	for i, e := range embeds {
		at := "embeds." + strconv.Itoa(i) + "."
		check := func(field, v string, max int) {
			n := utf8.RuneCountInString(v)
			total += n
			if n > max {
				form.Add(at+field, "BASE_TYPE_MAX_LENGTH", "Must be "+strconv.Itoa(max)+" or fewer in length.")
			}
		}
		check("title", e.Title, 256)
		check("description", e.Description, 4096)
		if e.Footer != nil {
			check("footer.text", e.Footer.Text, 2048)
		}
		if e.Author != nil {
			check("author.name", e.Author.Name, 256)
		}
		link := func(field, v string, attachments bool) {
			if !embedURL(v, attachments) {
				form.Add(at+field, "URL_TYPE_INVALID_SCHEME", "Must be an http:// or https:// URL of 2048 or fewer characters.")
			}
		}
		link("url", e.URL, false)
		if e.Footer != nil {
			link("footer.icon_url", e.Footer.IconURL, true)
		}
		for name, m := range map[string]*embedMedia{"image": e.Image, "thumbnail": e.Thumbnail, "video": e.Video} {
			if m != nil {
				link(name+".url", m.URL, true)
			}
		}
		if e.Provider != nil {
			link("provider.url", e.Provider.URL, false)
		}
		if e.Author != nil {
			link("author.url", e.Author.URL, false)
			link("author.icon_url", e.Author.IconURL, true)
		}
		if len(e.Fields) > maxEmbedFields {
			form.Add(at+"fields", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
		}
		for j, f := range e.Fields {
			check("fields."+strconv.Itoa(j)+".name", f.Name, 256)
			check("fields."+strconv.Itoa(j)+".value", f.Value, 1024)
		}
		if e.Type == "" {
			e.Type = "rich"
		}
		b, _ := json.Marshal(e)
		out = append(out, b)
	}
	if total > maxEmbedTotal {
		form.Add("embeds", "BASE_TYPE_MAX_LENGTH", "Embed size exceeds maximum size of 6000")
	}
	return out
}

// embedURL accepts an empty URL or an absolute http(s) one, and for images
// and icons Discord's attachment://name, which names a file of the same
// message: never javascript:, data: or anything a client might run.
func embedURL(s string, attachments bool) bool {
	if s == "" {
		return true
	}
	u, err := url.Parse(s)
	if err != nil || len(s) > maxEmbedURL {
		return false
	}
	switch u.Scheme {
	case "http", "https":
		return u.Host != ""
	case "attachment":
		return attachments
	}
	return false
}

// maxEmbedURL is Discord's bound on an embed URL.
const maxEmbedURL = 2048
