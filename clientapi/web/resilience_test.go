package web_test

import (
	"context"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// setOnline cuts the page off the network, or gives it back, as a lost
// Wi-Fi does: requests fail and the browser says it is offline.
func (p *person) setOnline(on bool) {
	p.tb.Helper()
	p.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		if _, err := cdp.Call(ctx, t, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
			MatchedNetworkConditions: []*network.Conditions{{Offline: !on, DownloadThroughput: -1, UploadThroughput: -1}}}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, network.OverrideNetworkState, network.OverrideNetworkStateParams{Offline: !on, DownloadThroughput: -1, UploadThroughput: -1})
		return err
	}))
}

// TestResilience: a send that fails while offline is shown and retried;
// the connection state is visible and the gateway resumes with what was
// missed; an ended session sends the person to log in and keeps the draft.
func TestResilience(t *testing.T) {
	url := startNode(t)
	browser := newBrowser(t)
	kim := newPerson(t, browser, url, "kim", desktop)
	lee := newPerson(t, browser, url, "lee", desktop)
	kim.register("correct horse battery")
	lee.register("staple battery horse")
	path, _, _ := kim.meet("Harbour", lee)
	kim.open(path)
	lee.open(path)
	kim.wait(`document.documentElement.dataset.connection === 'connected' && document.querySelector('.welcome')`)

	// Offline: the banner says so, and a message fails with Retry.
	kim.setOnline(false)
	kim.wait(`document.documentElement.dataset.connection === 'offline' && !document.querySelector('.connection').hidden`)
	kim.send("sent into the void")
	kim.wait(`document.querySelector('.msg.failed .failnote button')`)
	kim.shot("1-offline")
	lee.send("while you were away")

	// Back online: the gateway resumes with the missed message; Retry sends.
	kim.setOnline(true)
	kim.wait(`document.documentElement.dataset.connection === 'connected'`)
	kim.wait(`[...document.querySelectorAll('.msg .text')].some((t) => t.textContent === 'while you were away')`)
	kim.clickX(`//div[contains(@class,"failnote")]/button[text()="Retry"]`)
	lee.wait(`[...document.querySelectorAll('.msg .text')].some((t) => t.textContent === 'sent into the void')`)
	kim.wait(`!document.querySelector('.msg.failed') && !document.querySelector('.msg.pending')`)
	kim.shot("2-back")

	// The session ends elsewhere (logged out from another device): the
	// next request sends Kim to log in, and the draft survives.
	var sessions []struct {
		ID      string
		Current bool
	}
	// The text arrives at once, as pasted, so that no keystroke lands on
	// the login screen.
	kim.eval(`(() => { const a = document.querySelector('.composer textarea'); a.value = 'a half-written thought'; a.dispatchEvent(new Event('input')); })()`, nil)
	kim.api("GET", "/auth/sessions", nil, &sessions)
	// The gateway is closed with 4004 at once, which sends Kim to log in.
	kim.api("DELETE", "/auth/sessions/"+sessions[0].ID, nil, nil)
	kim.wait(`document.querySelector('form.auth') && document.querySelector('.notice')`)
	kim.shot("3-session-ended")
	kim.typeIn(`#f-login`, "kim")
	kim.typeIn(`#f-password`, "correct horse battery")
	kim.click(`form.auth button[type=submit]`)
	kim.wait(`document.querySelector('.composer textarea') && document.querySelector('.composer textarea').value === 'a half-written thought'`)
	kim.shot("4-draft-kept")
	kim.clean()
	lee.clean()
}
