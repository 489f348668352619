package web_test

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// recordNotifications stands in for the browser's notifications (headless
// Chromium shows none): it keeps what the page would have shown.
const recordNotifications = `window.__notes = [];
window.Notification = class {
	constructor(title, opts) { __notes.push(title + ': ' + ((opts && opts.body) || '')); }
	close() {}
	static permission = 'granted';
	static requestPermission() { return Promise.resolve('granted'); }
};`

// TestUnreadAndMentions: a mention typed through autocomplete reaches a
// person looking elsewhere as a badge on the guild and a desktop
// notification; opening the channel shows the unread line and clears the
// badge; search finds a message and jumps to it.
func TestUnreadAndMentions(t *testing.T) {
	url := startNode(t)
	browser := newBrowser(t)
	amy := newPerson(t, browser, url, "amy", desktop)
	bo := newPerson(t, browser, url, "bo", desktop)
	amy.before(recordNotifications)
	amy.register("correct horse battery")
	bo.register("staple battery horse")
	path, gid, _ := amy.meet("Lighthouse", bo)
	bo.open(path)
	amy.open(path)
	amy.send("the lamp is lit")
	bo.wait(`[...document.querySelectorAll('.msg .text')].some((t) => t.textContent === 'the lamp is lit')`)

	// Amy turns notifications on and goes home.
	amy.click(`.userpanel button[aria-label="User settings"]`)
	amy.clickX(`//div[@role="tablist"]/button[text()="Notifications"]`)
	amy.click(`#nt-on`)
	amy.wait(`localStorage.getItem('concord.notify') === 'on'`)
	amy.eval(`document.querySelector('dialog.modal').close()`, nil)
	amy.click(`.gbtn[data-guild="@me"]`)
	amy.wait(`document.querySelector('.friends')`)

	// Bo writes, then mentions Amy through the autocomplete.
	bo.send("a ship is coming")
	bo.typeIn(`.composer textarea`, "@am")
	bo.wait(`!document.querySelector('.autocomplete').hidden && document.querySelector('.acitem').textContent.includes('amy')`)
	bo.shot("1-autocomplete")
	bo.do(chromedp.KeyEvent(kb.Tab))
	bo.typeIn(`.composer textarea`, "are you awake?")
	bo.enter(`.composer textarea`)
	amy.wait(`document.querySelector('.gbtn[data-guild="` + gid + `"] .badge') && document.querySelector('.gbtn[data-guild="` + gid + `"] .badge').textContent === '1'`)
	amy.wait(`__notes.some((n) => n.startsWith('bo (#general)') && n.includes('@amy are you awake?'))`)
	amy.shot("2-badge")

	// Opening the channel: the unread line sits above Bo's first message,
	// the mention stands out, the badge goes.
	amy.click(`.gbtn[data-guild="` + gid + `"]`)
	amy.wait(`document.querySelector('.newsep') && document.querySelector('.newsep').closest('.msg').textContent.includes('a ship is coming')`)
	amy.wait(`[...document.querySelectorAll('.msg.mentioned')].some((m) => m.textContent.includes('@amy are you awake?'))`)
	amy.wait(`!document.querySelector('.gbtn .badge')`)
	amy.shot("3-unread")

	// Search finds the first message and jumps to it.
	bo.typeIn(`.searchform input`, "lamp\r")
	bo.wait(`document.querySelector('.results .hit')`)
	bo.shot("4-search")
	bo.click(`.results .hit`)
	bo.wait(`document.activeElement && document.activeElement.classList.contains('msg') && document.activeElement.textContent.includes('the lamp is lit')`)

	// Amy pins her message; the pins show it.
	amy.eval(action(`the lamp is lit`, `Pin`), nil)
	amy.wait(`[...document.querySelectorAll('.msg')].some((m) => m.textContent.includes('the lamp is lit') && m.querySelector('.pinned'))`)
	amy.click(`button[aria-label="Pinned messages"]`)
	amy.wait(`[...document.querySelectorAll('.results .hit')].some((h) => h.textContent.includes('the lamp is lit'))`)
	amy.shot("4-pins")
	amy.clean()
	bo.clean()
}
