package web_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdpfetch "github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"
)

// askForInvite is how a node that admits only the invited refuses a
// registration without an invite or a registration token.
const askForInvite = `{"code":50035,"message":"Invalid Form Body","errors":{"invite":{"_errors":[{"code":"BASE_TYPE_REQUIRED","message":"This node needs an invite or a registration token."}]}}}`

// guardRegistrations pauses the page's registrations on their way to the
// node: the first is refused as a node admitting only the invited refuses
// one if refuseFirst, the others go on. Each body sent arrives on the
// channel.
func (p *person) guardRegistrations(refuseFirst bool) <-chan string {
	p.tb.Helper()
	bodies := make(chan string, 8)
	var seen atomic.Int32
	answer := func(ev *cdpfetch.EventRequestPaused) {
		var body strings.Builder
		for _, e := range ev.Request.PostDataEntries {
			body.Write(e.Bytes)
		}
		bodies <- body.String()
		ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
		defer cancel()
		chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			if seen.Add(1) == 1 && refuseFirst {
				_, err := cdp.Call(ctx, t, cdpfetch.FulfillRequest, cdpfetch.FulfillRequestParams{RequestID: ev.RequestID, ResponseCode: 400,
					ResponseHeaders: []*cdpfetch.HeaderEntry{{Name: "Content-Type", Value: "application/json"}}, Body: []byte(askForInvite)})
				return err
			}
			_, err := cdp.Call(ctx, t, cdpfetch.ContinueRequest, cdpfetch.ContinueRequestParams{RequestID: ev.RequestID})
			return err
		}))
	}
	if err := chromedp.Listen(p.ctx, func(ev any) {
		if e, ok := ev.(*cdpfetch.EventRequestPaused); ok {
			go answer(e)
		}
	}); err != nil {
		p.tb.Fatal(err)
	}
	p.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, cdpfetch.Enable, cdpfetch.EnableParams{Patterns: []*cdpfetch.RequestPattern{{URLPattern: "*/auth/register"}}})
		return err
	}))
	return bodies
}

// TestSignUp: where the node asks for an invite, the sign-up form asks for
// one (or the operator's token) and sends what was typed; someone who
// follows an invite link gets the sign-up form, the invite goes with the
// registration, and the guild is offered once in. (This node admits
// anyone: the test stands in for one that does not.)
func TestSignUp(t *testing.T) {
	url := startNode(t)
	browser := newBrowser(t)
	amy := newPerson(t, browser, url, "amy", desktop)
	amy.register("correct horse battery")
	_, _, cid := amy.meet("Harbour")
	code := amy.invite(cid)

	// The node asks for an invite: a token typed in is sent.
	tok := newPerson(t, browser, url, "tok", desktop)
	bodies := tok.guardRegistrations(true)
	tok.open("/")
	tok.click(`form.auth .switch button`)
	tok.wait(`document.querySelector('#f-invite').closest('.field').hidden`)
	tok.typeIn(`#f-username`, "tok")
	tok.typeIn(`#f-password`, "staple battery horse")
	tok.click(`form.auth button[type=submit]`)
	if b := <-bodies; strings.Contains(b, "invite") || strings.Contains(b, "registration_token") {
		t.Errorf("the first registration carried an admission: %s", b)
	}
	tok.wait(`!document.querySelector('#f-invite').closest('.field').hidden && document.querySelector('#e-invite').textContent.includes('needs an invite')`)
	tok.shot("1-asked")
	tok.typeIn(`#f-invite`, "op-token-0123456789")
	tok.click(`form.auth button[type=submit]`)
	if b := <-bodies; !strings.Contains(b, `"registration_token":"op-token-0123456789"`) {
		t.Errorf("the token was not sent as one: %s", b)
	}
	tok.wait(`document.querySelector('.layout')`)

	// An invite link opened before having an account.
	newt := newPerson(t, browser, url, "newt", desktop)
	bodies = newt.guardRegistrations(false)
	newt.open("/invite/" + code)
	newt.wait(`document.querySelector('form.auth h1').textContent === 'Create an account'`)
	newt.typeIn(`#f-username`, "newt")
	newt.typeIn(`#f-password`, "battery staple horse")
	newt.click(`form.auth button[type=submit]`)
	if b := <-bodies; !strings.Contains(b, `"invite":"`+code+`"`) {
		t.Errorf("the invite was not sent: %s", b)
	}
	newt.wait(`document.querySelector('dialog.modal')`)
	newt.clickX(`//dialog//button[text()="Accept invite"]`)
	newt.wait(`document.querySelector('.ghead') && document.querySelector('.ghead').textContent.includes('Harbour')`)
	newt.shot("2-joined")
	tok.clean()
	newt.clean()
}
