package web_test

import (
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestFriendsAndDMs: a friend request by username, accepted; a DM from
// the friends list; a group DM; a status change the friend sees; an
// avatar; the sessions list; the light theme; and a block, which ends the
// friendship on both sides.
func TestFriendsAndDMs(t *testing.T) {
	url := startNode(t)
	browser := newBrowser(t)
	ann := newPerson(t, browser, url, "ann", desktop)
	ben := newPerson(t, browser, url, "ben", desktop)
	cat := newPerson(t, browser, url, "cat", desktop)
	for _, p := range []*person{ann, ben, cat} {
		p.register("correct horse battery")
	}

	// Ann asks Ben and Cat to be friends; they accept from Pending.
	ann.click(`.ftabs .primary`)
	for _, who := range []string{"ben", "cat"} {
		ann.do(chromedp.SetValue(chromedp.CSS(`#af-name`), who))
		ann.click(`.addfriend button[type=submit]`)
		ann.wait(`document.querySelector('.fok') && document.querySelector('.fok').textContent.includes(` + js(who) + `)`)
	}
	ann.shot("1-add-friend")
	for _, p := range []*person{ben, cat} {
		p.clickX(`//div[@role="tablist"]/button[text()="Pending"]`)
		p.wait(`document.querySelector('.flist li')`)
		p.clickX(`//ul[contains(@class,"flist")]//button[text()="Accept"]`)
	}
	ann.clickX(`//div[@role="tablist"]/button[text()="All"]`)
	ann.wait(`document.querySelectorAll('.flist li').length === 2`)
	ann.shot("2-friends")

	// A DM with Ben, from the friends list.
	ann.clickX(`//li[.//strong[text()="ben"]]//button[text()="Message"]`)
	ann.wait(`document.querySelector('.chtitle h1') && document.querySelector('.chtitle h1').textContent === 'ben'`)
	ann.send("hi ben, just us")
	ben.wait(`[...document.querySelectorAll('.chan.dm')].some((c) => c.textContent.includes('ann'))`)
	ben.click(`.chan.dm`)
	ben.wait(`[...document.querySelectorAll('.msg .text')].some((t) => t.textContent === 'hi ben, just us')`)
	ben.send("hi ann")
	ann.wait(`[...document.querySelectorAll('.msg .text')].some((t) => t.textContent === 'hi ann')`)
	ann.shot("3-dm")

	// A group DM with both.
	ann.click(`.cathead .catadd`)
	ann.eval(`document.querySelectorAll('dialog form input[type=checkbox]').forEach((c) => c.checked = true)`, nil)
	ann.click(`dialog form button[type=submit]`)
	ann.wait(`document.querySelector('.chtitle h1') && document.querySelector('.chtitle h1').textContent.includes(',')`)
	ann.send("hello both")
	cat.wait(`[...document.querySelectorAll('.chan.dm')].some((c) => c.textContent.includes('ben'))`)
	cat.eval(`[...document.querySelectorAll('.chan.dm')].find((c) => c.textContent.includes('ben')).click()`, nil)
	cat.wait(`[...document.querySelectorAll('.msg .text')].some((t) => t.textContent === 'hello both')`)
	cat.wait(`document.querySelectorAll('.members .member').length === 3`)
	cat.shot("4-group-dm")

	// Cat leaves the group: it goes from her list, and Ann sees two left.
	cat.click(`.leavebtn`)
	cat.clickX(`//dialog//button[text()="Leave Group"]`)
	cat.wait(`![...document.querySelectorAll('.chan.dm')].some((c) => c.textContent.includes('ben'))`)
	ann.wait(`document.querySelectorAll('.members .member').length === 2`)
	// Ann adds her back.
	ann.click(`.addbtn`)
	ann.eval(`document.querySelectorAll('dialog form input[type=checkbox]').forEach((c) => c.checked = true)`, nil)
	ann.click(`dialog form button[type=submit]`)
	ann.wait(`document.querySelectorAll('.members .member').length === 3`)
	cat.wait(`[...document.querySelectorAll('.chan.dm')].some((c) => c.textContent.includes('ben'))`)

	// Ann goes Do Not Disturb: Ben's friends list shows it.
	ann.click(`.userpanel .me`)
	ann.clickX(`//div[@role="menu"]//button[text()="Do Not Disturb"]`)
	ben.click(`.chan.friends`)
	ben.clickX(`//div[@role="tablist"]/button[text()="All"]`)
	ben.wait(`[...document.querySelectorAll('.flist li')].some((l) => l.textContent.includes('ann') && l.querySelector('.dot.dnd'))`)

	// An avatar, the sessions, and the light theme.
	png := filepath.Join(t.TempDir(), "me.png")
	writePNG(t, png)
	ann.click(`.userpanel button[aria-label="User settings"]`)
	ann.do(chromedp.SetUploadFiles(chromedp.CSS(`#us-avatar`), []string{png}))
	ann.do(chromedp.SetValue(chromedp.CSS(`#us-gname`), "Ann of the Node"))
	ann.click(`dialog form button[type=submit]`)
	ann.wait(`document.querySelector('.bigav img')`)
	ann.shot("5-account")
	ann.wait(`document.querySelector('.userpanel .avatar img') && document.querySelector('.userpanel .dname').textContent === 'Ann of the Node'`)
	ann.clickX(`//div[@role="tablist"]/button[text()="Sessions"]`)
	ann.wait(`document.querySelector('.sessions li')`)
	ann.shot("6-sessions")
	ann.clickX(`//div[@role="tablist"]/button[text()="Appearance"]`)
	ann.click(`#th-light`)
	ann.wait(`document.documentElement.dataset.theme === 'light'`)
	ann.eval(`document.querySelector('dialog.modal').close()`, nil)
	ann.eval(`[...document.querySelectorAll('.chan.dm')].find((c) => c.textContent.includes('ben') && !c.querySelector('.sub')).click()`, nil)
	ann.wait(`document.querySelectorAll('.msg').length === 2`)
	ann.shot("7-light")

	// Ann blocks Cat: the friendship ends on both sides.
	ann.click(`.chan.friends`)
	ann.clickX(`//div[@role="tablist"]/button[text()="All"]`)
	ann.clickX(`//li[.//strong[text()="cat"]]//button[text()="Block"]`)
	ann.clickX(`//div[@role="tablist"]/button[text()="Blocked"]`)
	ann.wait(`[...document.querySelectorAll('.flist li')].some((l) => l.textContent.includes('cat'))`)
	cat.click(`.chan.friends`)
	cat.clickX(`//div[@role="tablist"]/button[text()="All"]`)
	cat.wait(`![...document.querySelectorAll('.flist li')].some((l) => l.textContent.includes('Ann'))`)
	for _, p := range []*person{ann, ben, cat} {
		p.clean()
	}
}
