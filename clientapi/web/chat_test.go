package web_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestChat is two people meeting in a new guild, at a desktop's width and
// at a phone's: both register, one creates a guild and an invite, the
// other joins by pasting it; they chat, see each other typing and online,
// reply, react, upload an image, edit and delete.
func TestChat(t *testing.T) {
	url := startNode(t)
	browser := newBrowser(t)
	atEachWidth(t, func(t *testing.T, size [2]int64, narrow bool) { chat(t, url, browser, size, narrow) })
}

func chat(t *testing.T, url string, browser context.Context, size [2]int64, narrow bool) {
	suffix := map[bool]string{false: "d", true: "p"}[narrow]
	alice := newPerson(t, browser, url, "alice"+suffix, size)
	bob := newPerson(t, browser, url, "bob"+suffix, size)
	alice.register("correct horse battery")
	alice.shot("1-home")
	bob.register("staple battery horse")

	// Alice creates a guild and an invite.
	if narrow {
		alice.click(`.navbtn`)
	}
	alice.click(`.gbtn.add`)
	alice.do(chromedp.SetValue(chromedp.CSS(`#ng-name`), "Tea Room"))
	alice.click(`.addguild form:first-child button[type=submit]`)
	alice.wait(`document.querySelector('.chtitle h1') && document.querySelector('.chtitle h1').textContent === 'general'`)
	if narrow {
		alice.click(`.navbtn`)
		alice.wait(`document.querySelector('.layout.shownav')`)
	}
	alice.click(`.ghead`)
	alice.shot("2-guild-menu")
	alice.clickX(`//button[text()="Invite people"]`)
	alice.wait(`document.querySelector('.invitelink') && document.querySelector('.invitelink').value.includes('/invite/')`)
	alice.shot("3-invite")
	var link string
	alice.eval(`document.querySelector('.invitelink').value`, &link)
	alice.eval(`document.querySelector('dialog.modal').close()`, nil)
	if narrow {
		// A tap beside the drawer, where the shade shows.
		alice.do(chromedp.MouseClickXY(float64(size[0]-10), float64(size[1]/2)))
		alice.wait(`!document.querySelector('.layout.shownav')`)
	}

	// Bob joins with the pasted link.
	if narrow {
		bob.click(`.navbtn`)
	}
	bob.click(`.gbtn.add`)
	bob.typeIn(`#ng-code`, link)
	bob.click(`.addguild form:nth-child(2) button[type=submit]`)
	bob.wait(`document.querySelector('.chtitle h1') && document.querySelector('.chtitle h1').textContent === 'general'`)

	// Presence: each sees the other online in the member list.
	alice.wait(`[...document.querySelectorAll('.members .member.online')].some((m) => m.dataset.user && m.textContent.includes('bob'))`)

	// Chat, with typing shown on the other side.
	alice.send("hello **bob**, welcome to the _tea room_")
	bob.wait(`[...document.querySelectorAll('.msg .text')].some((t) => t.textContent.includes('hello bob, welcome'))`)
	bob.wait(`document.querySelector('.msg .text strong') && document.querySelector('.msg .text strong').textContent === 'bob'`)
	bob.typeIn(`.composer textarea`, "thanks")
	alice.wait(`document.querySelector('.typing') && document.querySelector('.typing').textContent.includes('bob` + suffix + ` is typing')`)
	alice.shot("4-typing")
	bob.eval(`document.querySelector('.composer textarea').value = ''`, nil)

	// Bob replies to Alice's message.
	bob.eval(action(`hello bob`, `Reply`), nil)
	bob.wait(`!document.querySelector('.replybar').hidden`)
	bob.send("thanks alice!")
	alice.wait(`[...document.querySelectorAll('.msg')].some((m) => m.querySelector('.replyto') && m.textContent.includes('thanks alice!'))`)

	// Alice reacts to the reply through the emoji picker.
	alice.eval(action(`thanks alice!`, `Add reaction`), nil)
	alice.wait(`document.querySelector('.picker')`)
	alice.shot("5-picker")
	alice.click(`.picker button[aria-label=thumbsup]`)
	bob.wait(`[...document.querySelectorAll('.reaction:not(.add)')].some((r) => r.textContent.includes('👍') && r.textContent.includes('1'))`)

	// Bob uploads an image: it previews before sending and shows inline after.
	img := filepath.Join(t.TempDir(), "teapot.png")
	writePNG(t, img)
	bob.do(chromedp.SetUploadFiles(chromedp.CSS(`.composer input[type=file]`), []string{img}, chromedp.NodeReady))
	bob.wait(`document.querySelector('.filesbar .upload img')`)
	bob.shot("6-upload-preview")
	bob.send("my teapot")
	alice.wait(`[...document.querySelectorAll('.msg .files img')].some((i) => i.complete && i.naturalWidth === 64)`)

	// Alice edits her last message with ↑ and deletes it again.
	alice.do(chromedp.Focus(chromedp.CSS(`.composer textarea`)), chromedp.KeyEvent(kb.ArrowUp))
	alice.wait(`document.querySelector('.editbox')`)
	alice.do(chromedp.SendKeys(chromedp.CSS(`.editbox`), " (edited by hand)"))
	alice.enter(`.editbox`)
	bob.wait(`[...document.querySelectorAll('.msg')].some((m) => m.textContent.includes('(edited by hand)') && m.querySelector('.edited'))`)
	alice.shot("7-chat")
	bob.shot("7-chat")
	if narrow {
		bob.click(`.membersbtn`)
		bob.wait(`document.querySelector('.layout.showmembers')`)
		bob.shot("8-members")
		bob.click(`.shade`)
	}
	alice.eval(action(`(edited by hand)`, `Delete`, `shiftKey: true`), nil)
	bob.wait(`![...document.querySelectorAll('.msg')].some((m) => m.textContent.includes('(edited by hand)'))`)
	bob.wait(`document.querySelector('.replyto.gone')`)

	// Files also come by paste and by drag-and-drop.
	alice.eval(`(() => {
		const t = new DataTransfer();
		t.items.add(new File(['pasted words'], 'pasted.txt', { type: 'text/plain' }));
		document.querySelector('.composer textarea').dispatchEvent(new ClipboardEvent('paste', { clipboardData: t, bubbles: true, cancelable: true }));
		const d = new DataTransfer();
		d.items.add(new File(['dropped words'], 'dropped.txt', { type: 'text/plain' }));
		const pane = document.querySelector('main.pane');
		pane.dispatchEvent(new DragEvent('dragover', { dataTransfer: d, bubbles: true, cancelable: true }));
		pane.dispatchEvent(new DragEvent('drop', { dataTransfer: d, bubbles: true, cancelable: true }));
	})()`, nil)
	alice.wait(`document.querySelectorAll('.filesbar .upload').length === 2`)
	alice.send("two files")
	bob.wait(`[...document.querySelectorAll('.msg')].some((m) => m.textContent.includes('pasted.txt') && m.textContent.includes('dropped.txt'))`)

	alice.clean()
	bob.clean()
}

// action is the script that points at the message containing text, as a
// mouse would, and clicks one of its actions.
func action(text, label string, opts ...string) string {
	return `(() => {
		const m = [...document.querySelectorAll('.msg')].find((m) => m.textContent.includes(` + js(text) + `));
		m.querySelector('.text').dispatchEvent(new MouseEvent('mouseover', { bubbles: true }));
		m.querySelector('.actions [aria-label="` + label + `"]').dispatchEvent(new MouseEvent('click', { bubbles: true, ` + strings.Join(opts, ", ") + ` }));
	})()`
}

func writePNG(t *testing.T, path string) {
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for x := range 64 {
		for y := range 48 {
			img.Set(x, y, color.RGBA{uint8(x * 4), 120, uint8(y * 5), 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
