package web_test

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// TestManageGuild walks an owner through running a guild from the
// client's menus and dialogs: categories and channels, a hoisted role with
// permissions given to a member, a channel overwrite the member then
// meets, a timeout, the audit log, and a ban that takes the guild away
// from the member's screen.
func TestManageGuild(t *testing.T) {
	url := startNode(t)
	browser := newBrowser(t)
	owner := newPerson(t, browser, url, "owner", desktop)
	member := newPerson(t, browser, url, "member", desktop)
	owner.register("correct horse battery")
	member.register("staple battery horse")
	gid, cid := owner.newGuild("Workshop")
	member.open("/invite/" + owner.invite(cid))
	member.wait(`document.querySelector('dialog.modal')`)
	member.shot("1-invite")
	member.clickX(`//dialog//button[text()="Accept invite"]`)
	member.wait(`document.querySelector('.ghead') && document.querySelector('.ghead').textContent.includes('Workshop')`)

	owner.open("/channels/" + gid)
	menu := func(item string) {
		t.Helper()
		owner.click(`.ghead`)
		owner.do(chromedp.Click(chromedp.Search(`//div[@role="menu"]//button[text()="` + item + `"]`)))
	}
	// A category with a text and a voice channel in it.
	menu("Create category")
	owner.do(chromedp.SetValue(chromedp.CSS(`#m-name`), "Projects"))
	owner.click(`dialog form button[type=submit]`)
	owner.wait(`[...document.querySelectorAll('.cat')].some((c) => c.textContent === 'Projects')`)
	owner.click(`.catrow .catadd`)
	owner.do(chromedp.SetValue(chromedp.CSS(`#m-name`), "plans"))
	owner.click(`dialog form button[type=submit]`)
	owner.wait(`!document.querySelector('dialog')`)
	owner.click(`.catrow .catadd`)
	owner.do(chromedp.SetValue(chromedp.CSS(`#m-type`), "2"), chromedp.SetValue(chromedp.CSS(`#m-name`), "Lounge"))
	owner.click(`dialog form button[type=submit]`)
	owner.wait(`document.querySelectorAll('.chan').length === 3`)
	member.wait(`document.querySelectorAll('.chan').length === 3`)

	// A hoisted role that may manage messages.
	menu("Server settings")
	owner.clickX(`//div[@role="tablist"]/button[text()="Roles"]`)
	owner.click(`.roles .primary`)
	owner.wait(`document.querySelector('#re-name')`)
	owner.do(chromedp.SetValue(chromedp.CSS(`#re-name`), "Crew"), chromedp.SetValue(chromedp.CSS(`#re-color`), "#e67e22"))
	owner.eval(`document.querySelector('#re-hoist').checked = true; document.querySelector('#rp-MANAGE_MESSAGES').checked = true`, nil)
	owner.shot("2-roles")
	owner.click(`.roleedit .mfoot .primary`)
	owner.wait(`[...document.querySelectorAll('.rolelist button')].some((b) => b.textContent === 'Crew')`)
	owner.clickX(`//div[@role="tablist"]/button[text()="Audit log"]`)
	owner.wait(`document.querySelectorAll('.auditlog li').length >= 4`)
	owner.shot("3-audit")
	owner.eval(`document.querySelector('dialog.modal').close()`, nil)

	// moderate picks an item of the member's popout's Moderate menu, once
	// the dialog before has closed (it closes when the node answered).
	moderate := func(item string) {
		t.Helper()
		owner.wait(`!document.querySelector('dialog')`)
		owner.click(`.members .member[aria-label^="member"]`)
		owner.wait(`document.querySelector('.profile .pactions')`)
		owner.shot("popout")
		owner.clickX(`//div[contains(@class,"pactions")]/button[text()="Moderate"]`)
		owner.clickX(`//div[@role="menu"]//button[text()="` + item + `"]`)
	}

	// The role, given from the member's popout, lists them apart.
	moderate("Roles…")
	owner.wait(`document.querySelector('dialog form input[type=checkbox]')`)
	owner.eval(`document.querySelector('dialog form input[type=checkbox]').checked = true`, nil)
	owner.click(`dialog form button[type=submit]`)
	owner.wait(`[...document.querySelectorAll('.mgroup')].some((h) => h.textContent.startsWith('Crew'))`)
	member.wait(`[...document.querySelectorAll('.mgroup')].some((h) => h.textContent.startsWith('Crew'))`)

	// @everyone may not send in #plans: the member's composer says so.
	owner.eval(`[...document.querySelectorAll('.chrow')].find((r) => r.textContent.includes('plans')).querySelector('.chgear').click()`, nil)
	owner.clickX(`//div[@role="tablist"]/button[text()="Permissions"]`)
	owner.wait(`document.querySelector('.roles select')`)
	owner.eval(`(() => { const s = document.querySelector('.roles select'); s.value = '0:' + `+js(gid)+`; s.dispatchEvent(new Event('change')); })()`, nil)
	owner.wait(`document.querySelector('select[aria-label="Send messages"]')`)
	owner.do(chromedp.SetValue(chromedp.CSS(`select[aria-label="Send messages"]`), "deny"))
	owner.shot("5-overwrites")
	owner.click(`.roleedit .mfoot .primary`)
	owner.wait(`document.querySelector('.rolelist li')`)
	owner.eval(`document.querySelector('dialog.modal').close()`, nil)
	member.eval(`[...document.querySelectorAll('.chan')].find((c) => c.textContent.includes('plans')).click()`, nil)
	member.wait(`document.querySelector('.composer textarea').disabled`)
	member.shot("6-no-send")

	// A timeout, then a ban.
	moderate("Time out…")
	owner.click(`dialog form button[type=submit]`)
	member.eval(`[...document.querySelectorAll('.chan')].find((c) => c.textContent.includes('general')).click()`, nil)
	member.wait(`document.querySelector('.composer textarea').disabled`)
	moderate("Ban…")
	owner.click(`dialog form button[type=submit]`)
	member.wait(`!document.querySelector('.gbtn[aria-label^="Workshop"]')`)
	member.shot("7-banned")
	menu("Server settings")
	owner.clickX(`//div[@role="tablist"]/button[text()="Bans"]`)
	owner.wait(`document.querySelector('.banlist li')`)
	owner.shot("8-bans")
	owner.clean()
	member.clean()
}
