package web_test

import (
	"fmt"
	"strings"
	"testing"
)

// hostile are messages written to break out of their element: markup,
// script, javascript: links, and markdown that tries to smuggle any of
// them in. Each sets window.__pwned if it ever runs.
var hostile = []string{
	`<script>window.__pwned = 1</script>`,
	`<img src=x onerror="window.__pwned = 2">`,
	`[click me](javascript:window.__pwned=3)`,
	`javascript:window.__pwned=4`,
	`[ok](https://example.org/"onmouseover="window.__pwned=5)`,
	"```html\n<img src=x onerror=window.__pwned=6>\n```",
	`||<iframe src="javascript:window.__pwned=7"></iframe>||`,
	`> <svg onload="window.__pwned=8"></svg>`,
	`<@123"><img src=x onerror=window.__pwned=9>>`,
	`**<b onclick="window.__pwned=10">bold?</b>**`,
	"`<style>*{display:none}</style>` and __<u>under</u>__",
	`<a href="javascript:window.__pwned=11">a link</a> ~~<s>x</s>~~ \*not italic\*`,
	`[<img src=x onerror=window.__pwned=12>](https://example.org)`,
	strings.Repeat("*_~|", 200) + `<img src=x onerror=window.__pwned=13>`,
	`</div></div><div class="msg">forged message</div>`,
}

// TestHostileContent posts the hostile messages, a hostile display name
// and guild name, and a file with a hostile name, and checks in the
// browser that nothing ran, nothing left its message, every link is http(s),
// and the policy met no violation.
func TestHostileContent(t *testing.T) {
	url := startNode(t)
	browser := newBrowser(t)
	eve := newPerson(t, browser, url, "eve", desktop)
	eve.register("correct horse battery")
	payload := `<img src=x onerror="window.__pwned=20">`
	eve.api("PATCH", "/users/@me", map[string]any{"global_name": "eve" + payload[:20]}, nil)
	gid, ch := eve.newGuild("<b>guild</b>" + payload)
	for _, m := range hostile {
		eve.api("POST", "/channels/"+ch+"/messages", map[string]any{"content": m}, nil)
	}
	// An embed made of the same, with links and an image whose URLs try to
	// break out of their attribute (the node refuses javascript: URLs in
	// embeds outright).
	eve.api("POST", "/channels/"+ch+"/messages", map[string]any{"content": "embed", "embeds": []any{map[string]any{
		"title": `<img src=x onerror="window.__pwned=30">`, "url": `https://example.org/"onmouseover="window.__pwned=31"`,
		"description": "[x](javascript:window.__pwned=32) <svg onload=window.__pwned=33></svg>",
		"author":      map[string]any{"name": "<b>author</b>", "url": `https://example.org/'onfocus='window.__pwned=34'`},
		"fields":      []any{map[string]any{"name": "<i>field</i>", "value": "<script>window.__pwned=35</script>"}},
		"image":       map[string]any{"url": `https://example.org/x.png"onerror="window.__pwned=36"`},
		"footer":      map[string]any{"text": `<img src=x onerror="window.__pwned=37">`},
	}}}, nil)
	// A file whose name is markup, sent as the client sends files.
	eve.eval(fmt.Sprintf(`(async () => {
		const s = JSON.parse(localStorage.getItem('concord.session'));
		const f = new FormData();
		f.append('payload_json', JSON.stringify({content: 'file'}));
		f.append('files[0]', new Blob(['hi'], {type: 'text/plain'}), %s);
		const r = await fetch('/api/v10/channels/%s/messages', {method: 'POST', headers: {Authorization: s.token}, body: f});
		if (!r.ok) throw new Error(await r.text());
	})()`, js(`<img src=x onerror="window.__pwned=21">.txt`), ch), nil)

	eve.open("/channels/" + gid + "/" + ch)
	eve.wait(fmt.Sprintf(`document.querySelectorAll('.list .msg').length === %d`, len(hostile)+2))
	// Give anything that would run a chance to.
	eve.eval(`document.querySelectorAll('.list *').forEach((e) => ['mouseover', 'mouseenter', 'focus', 'load', 'error'].forEach((t) => e.dispatchEvent(new Event(t))))`, nil)
	eve.eval(`new Promise((ok) => setTimeout(ok, 300))`, nil)
	eve.shot("messages")

	var report struct {
		Pwned      any
		Foreign    []string
		Handlers   []string
		Links      []string
		Texts      []string
		Embed      string
		Strong     string
		GuildLabel string
	}
	eve.eval(`(() => {
		const list = document.querySelector('.list');
		const all = [...document.querySelectorAll('*')];
		const allowed = new Set(['DIV', 'SPAN', 'BUTTON', 'TIME', 'STRONG', 'EM', 'U', 'S', 'CODE', 'PRE', 'BLOCKQUOTE', 'A', 'IMG', 'ARTICLE', 'svg', 'path']);
		return {
			Pwned: window.__pwned ?? null,
			Foreign: [...list.querySelectorAll('*')].filter((e) => !allowed.has(e.tagName)).map((e) => e.tagName)
				.concat([...list.children].filter((e) => !e.dataset.id).map((e) => 'stray ' + e.outerHTML.slice(0, 80))),
			Handlers: all.flatMap((e) => [...e.attributes].filter((a) => a.name.startsWith('on')).map((a) => e.tagName + ' ' + a.name)),
			Links: [...document.querySelectorAll('a[href]')].map((a) => a.href).filter((h) => !/^https?:/.test(h)),
			Texts: [...list.querySelectorAll('.msg .text')].map((t) => t.textContent),
			Strong: [...list.querySelectorAll('.msg .text strong')].map((s) => s.textContent).join('|'),
			GuildLabel: document.querySelector('.ghead .gname').textContent,
			Embed: document.querySelector('.embed') ? document.querySelector('.embed').textContent : '',
		};
	})()`, &report)
	if report.Pwned != nil {
		t.Errorf("hostile content ran: window.__pwned = %v", report.Pwned)
	}
	if len(report.Foreign) > 0 {
		t.Errorf("elements the client never makes appeared in the message list: %q", report.Foreign)
	}
	if len(report.Handlers) > 0 {
		t.Errorf("elements with inline handlers: %q", report.Handlers)
	}
	if len(report.Links) > 0 {
		t.Errorf("links that are not http(s): %q", report.Links)
	}
	if !strings.Contains(report.Strong, `<b onclick="window.__pwned=10">bold?</b>`) {
		t.Errorf("bold markup was not shown as text: %q", report.Strong)
	}
	if !strings.Contains(report.Embed, `<img src=x onerror="window.__pwned=30">`) || !strings.Contains(report.Embed, "<script>window.__pwned=35</script>") {
		t.Errorf("the embed was not shown as text: %q", report.Embed)
	}
	if report.GuildLabel != "<b>guild</b>"+payload {
		t.Errorf("guild name shown as %q", report.GuildLabel)
	}
	for i, want := range []string{"<script>window.__pwned = 1</script>", `<img src=x onerror="window.__pwned = 2">`, "[click me](javascript:window.__pwned=3)"} {
		if i >= len(report.Texts) {
			t.Fatalf("only %d messages shown", len(report.Texts))
		}
		if report.Texts[i] != want {
			t.Errorf("message %d shown as %q, want %q", i, report.Texts[i], want)
		}
	}
	eve.clean()
}
