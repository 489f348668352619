package web_test

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestKeyboard uses the client with the keyboard alone: Alt+↓ to the next
// channel, Ctrl+K to jump by name, ↑ in an empty composer to edit the last
// message and Escape to leave it, the arrow keys through the messages and
// the guild rail.
func TestKeyboard(t *testing.T) {
	url := startNode(t)
	browser := newBrowser(t)
	pat := newPerson(t, browser, url, "pat", desktop)
	pat.register("correct horse battery")
	gid, _ := pat.newGuild("Keys")
	pat.api("POST", "/guilds/"+gid+"/channels", map[string]any{"name": "second"}, nil)
	pat.open("/channels/" + gid)
	pat.wait(`document.querySelector('.chan.active') && document.querySelector('.chan.active').textContent === 'general'`)
	key := func(k string, mods ...chromedp.Modifier) {
		t.Helper()
		pat.do(chromedp.KeyEvent(k, chromedp.KeyModifiers(mods...)))
	}

	key(kb.ArrowDown, chromedp.ModifierAlt)
	pat.wait(`document.querySelector('.chan.active').textContent === 'second'`)
	key("k", chromedp.ModifierCtrl)
	pat.wait(`document.activeElement && document.activeElement.getAttribute('aria-label') === 'Find a channel or conversation'`)
	pat.do(chromedp.SendKeys(chromedp.CSS(`dialog input`), "gener"))
	pat.shot("1-switcher")
	pat.enter(`dialog input`)
	pat.wait(`document.querySelector('.chan.active').textContent === 'general' && !document.querySelector('dialog')`)

	for _, m := range []string{"one", "two", "three"} {
		pat.send(m)
	}
	pat.wait(`document.querySelectorAll('.msg:not(.pending)').length === 3`)
	key(kb.ArrowUp)
	pat.wait(`document.activeElement && document.activeElement.classList.contains('editbox') && document.activeElement.value === 'three'`)
	key(kb.Escape)
	pat.wait(`!document.querySelector('.editbox') && document.activeElement.getAttribute('aria-label') === 'Message'`)

	// Through the messages with the arrow keys.
	pat.eval(`document.querySelector('.msg:last-child').focus()`, nil)
	key(kb.ArrowUp)
	pat.wait(`document.activeElement.classList.contains('msg') && document.activeElement.textContent.includes('two')`)
	pat.shot("2-message-focus")
	key(kb.Escape)
	pat.wait(`document.activeElement.getAttribute('aria-label') === 'Message'`)

	// The rail: ↓ moves between guilds.
	pat.eval(`document.querySelector('.gbtn').focus()`, nil)
	key(kb.ArrowDown)
	pat.wait(`document.activeElement.dataset.guild === ` + js(gid))
	pat.clean()
}
