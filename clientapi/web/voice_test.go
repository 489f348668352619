package web_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// voiceFlags give Chromium fake devices (a microphone that beeps) without
// asking, loopback candidates under their addresses rather than mDNS names,
// as the node serves loopback only, and audio that plays unprompted.
var voiceFlags = []chromedp.ExecAllocatorOption{
	chromedp.Flag("use-fake-device-for-media-stream", true),
	chromedp.Flag("use-fake-ui-for-media-stream", true),
	chromedp.Flag("allow-loopback-in-peer-connection", true),
	chromedp.Flag("disable-features", "WebRtcHideLocalIpsWithMdns"),
	chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
}

// recordPeerConnections keeps the page's WebRTC connections where a test
// can read their statistics.
const recordPeerConnections = `window.__pcs = [];
const Real = window.RTCPeerConnection;
window.RTCPeerConnection = class extends Real {
	constructor(...a) { super(...a); __pcs.push(this); }
};`

// recordSockets keeps the page's WebSockets, so that a test can drop one.
const recordSockets = `window.__sockets = [];
const RealSocket = window.WebSocket;
window.WebSocket = class extends RealSocket {
	constructor(...a) { super(...a); __sockets.push(this); }
};`

// inboundAudio sums what the page's connections received of audio.
const inboundAudio = `(async () => {
	let packets = 0, energy = 0;
	for (const pc of __pcs) {
		if (pc.connectionState === 'closed') continue;
		for (const s of (await pc.getStats()).values()) {
			if (s.type === 'inbound-rtp' && s.kind === 'audio') {
				packets += s.packetsReceived || 0;
				energy += s.totalAudioEnergy || 0;
			}
		}
	}
	return { Packets: packets, Energy: energy };
})()`

type audioStats struct {
	Packets int
	Energy  float64
}

// audioUntil reads the page's received audio until ok holds of it.
func (p *person) audioUntil(what string, ok func(audioStats) bool) audioStats {
	p.tb.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var s audioStats
		p.eval(`new Promise((ok) => setTimeout(ok, 100)).then(() => `+inboundAudio+`)`, &s)
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			p.shot("failed")
			p.tb.Fatalf("%s: %s: received audio stayed at %+v", p.name, what, s)
		}
	}
}

// TestVoice: two people join a voice channel from the channel list, at a
// desktop's width and at a phone's; each receives the other's audio
// (packets and energy growing in getStats), the speaker's ring lights on
// the listener's screen and on their own, a mute shows, and leaving takes the person out of
// the channel. At a desktop's width one's voice connection drops and
// resumes, then they turn the camera on and share the screen, which the
// other watches, and, once out, mute the other from the server, move them
// to another channel and take them out of voice.
func TestVoice(t *testing.T) {
	url := startNode(t)
	browser := newBrowser(t, voiceFlags...)
	atEachWidth(t, func(t *testing.T, size [2]int64, narrow bool) { voiceCall(t, url, browser, size, narrow) })
}

func voiceCall(t *testing.T, url string, browser context.Context, size [2]int64, narrow bool) {
	suffix := map[bool]string{false: "d", true: "p"}[narrow]
	vic := newPerson(t, browser, url, "vic"+suffix, size)
	val := newPerson(t, browser, url, "val"+suffix, size)
	for _, p := range []*person{vic, val} {
		p.before(recordPeerConnections)
		p.before(recordSockets)
	}
	vic.register("correct horse battery")
	val.register("staple battery horse")
	path, gid, _ := vic.meet("Studio", val)
	var lounge struct{ ID string }
	vic.api("POST", "/guilds/"+gid+"/channels", map[string]any{"name": "lounge", "type": 2}, &lounge)
	// A voice channel's address opens its guild's text channel, not an
	// empty message pane under a # header.
	vic.open("/channels/" + gid + "/" + lounge.ID)
	vic.wait(`location.pathname === ` + strconv.Quote(path) + ` && document.querySelector('.chhead h1').textContent !== 'lounge'`)
	var ids [2]string
	for i, p := range []*person{vic, val} {
		p.open(path)
		p.eval(`JSON.parse(localStorage.getItem('concord.session')).user_id`, &ids[i])
	}
	in := func(p *person, id string) string {
		return `document.querySelector('.chrow:has([data-channel="` + lounge.ID + `"]) .voicers li[data-user="` + id + `"]')`
	}

	// Both join from the channel list.
	for _, p := range []*person{vic, val} {
		if narrow {
			p.click(`.navbtn`)
		}
		p.click(`.chan[data-channel="` + lounge.ID + `"]`)
		p.wait(`!document.querySelector('.voicepanel').hidden && document.querySelector('.vinfo').textContent.includes('lounge')`)
	}
	for _, p := range []*person{vic, val} {
		p.wait(`document.querySelector('.vinfo strong').textContent === 'Voice Connected'`)
	}
	for _, p := range []*person{vic, val} {
		p.wait(in(p, ids[0]) + ` && ` + in(p, ids[1]))
	}

	// Val hears Vic: packets and energy grow, and Vic's ring lights.
	first := val.audioUntil("audio from vic", func(s audioStats) bool { return s.Packets > 50 })
	val.wait(in(val, ids[0]) + `.classList.contains('speaking')`)
	val.shot("1-speaking")
	later := val.audioUntil("more audio from vic", func(s audioStats) bool { return s.Packets > first.Packets+50 && s.Energy > first.Energy })
	t.Logf("val received %d audio packets, energy %.3f → %.3f", later.Packets, first.Energy, later.Energy)
	vic.audioUntil("audio from val", func(s audioStats) bool { return s.Packets > 50 })
	// One's own ring lights from the SFU's word (op 5).
	vic.wait(in(vic, ids[0]) + `.classList.contains('speaking')`)

	if !narrow {
		// The voice gateway drops: the client resumes it, and what follows
		// (a camera, offered over it) works.
		voiceSockets := `__sockets.filter((s) => s.url.includes('/voice'))`
		vic.eval(voiceSockets+`[0].close(4000)`, nil)
		vic.wait(voiceSockets + `.length === 2 && ` + voiceSockets + `[1].readyState === WebSocket.OPEN`)
		video(t, vic, val, ids[0])

		// The devices to choose from are the browser's.
		vic.click(`.userpanel button[aria-label="User settings"]`)
		vic.clickX(`//div[@role="tablist"]/button[text()="Voice"]`)
		vic.wait(`document.querySelectorAll('#vd-input option').length > 1 && document.querySelectorAll('#vd-output option').length > 0`)
		vic.eval(`(() => { const s = document.querySelector('#vd-input'); s.value = s.options[1].value; s.dispatchEvent(new Event('change')); })()`, nil)
		vic.wait(`JSON.parse(localStorage.getItem('concord.voice')).input === document.querySelector('#vd-input').value`)
		vic.shot("3-devices")
		vic.eval(`document.querySelector('dialog.modal').close()`, nil)
		// The new microphone is heard in the same call.
		now := val.audioUntil("audio", func(audioStats) bool { return true })
		val.audioUntil("audio from vic's new microphone", func(s audioStats) bool { return s.Packets > now.Packets+50 && s.Energy > now.Energy })
	}

	// Vic mutes: Val sees it.
	vic.click(`.userpanel button[aria-label="Mute"]`)
	vic.wait(`document.querySelector('.userpanel button[aria-label="Mute"]').getAttribute('aria-pressed') === 'true'`)
	val.wait(in(val, ids[0]) + `.querySelector('[aria-label="Muted"]')`)
	vic.shot("2-muted")
	vic.click(`.userpanel button[aria-label="Mute"]`)
	val.wait(in(val, ids[0]) + ` && !` + in(val, ids[0]) + `.querySelector('[aria-label="Muted"]')`)

	// Vic leaves; on a phone from the header, the drawer closed.
	if narrow {
		vic.do(chromedp.MouseClickXY(float64(size[0]-10), float64(size[1]/2)))
		vic.wait(`!document.querySelector('.layout.shownav')`)
		vic.shot("3-call-in-header")
		vic.click(`.callpill button[aria-label="Disconnect"]`)
	} else {
		vic.click(`.voicepanel button[aria-label="Disconnect"]`)
	}
	vic.wait(`document.querySelector('.voicepanel').hidden`)
	val.wait(`!` + in(val, ids[0]) + ` && ` + in(val, ids[1]))
	val.shot("3-left")

	if !narrow {
		// Vic, who owns the guild, mutes Val from the server, then takes
		// him out of voice.
		moderate := func(item string) {
			vic.wait(`!document.querySelector('dialog')`)
			vic.click(`.members .member[aria-label^="` + val.name + `"]`)
			vic.clickX(`//div[contains(@class,"pactions")]/button[text()="Moderate"]`)
			vic.clickX(`//div[@role="menu"]//button[text()="` + item + `"]`)
		}
		moderate("Server mute")
		for _, p := range []*person{vic, val} {
			p.wait(in(p, ids[1]) + ` && ` + in(p, ids[1]) + `.querySelector('[aria-label="Muted"]')`)
		}
		var stage struct{ ID string }
		vic.api("POST", "/guilds/"+gid+"/channels", map[string]any{"name": "stage", "type": 2}, &stage)
		moderate("Move to…")
		vic.do(chromedp.SetValue(chromedp.CSS(`#m-to`), stage.ID))
		vic.click(`dialog form button[type=submit]`)
		val.wait(`document.querySelector('.vinfo').textContent.includes('stage')`)
		moderate("Disconnect from voice")
		val.wait(`document.querySelector('.voicepanel').hidden && !` + in(val, ids[1]))
		vic.wait(`!` + in(vic, ids[1]))
	}
	vic.clean()
	val.clean()
}

// video: from turns the camera on, then shares the screen at 720p; to sees
// both as tiles whose video plays, the share marked LIVE, and watches it
// large; then from stops both.
func video(t *testing.T, from, to *person, fromID string) {
	tile := func(source string) string {
		return `document.querySelector('.stage .tile[data-user="` + fromID + `"][data-source="` + source + `"] video')`
	}
	playing := func(source string) string {
		return tile(source) + ` && ` + tile(source) + `.videoWidth > 0 && ` + tile(source) + `.currentTime > 0`
	}
	from.click(`.vbuttons button[aria-label="Turn on camera"]`)
	from.wait(tile("camera"))
	to.wait(playing("camera"))
	to.wait(`document.querySelector('.voicers li[data-user="` + fromID + `"] [aria-label="Camera on"]')`)

	from.click(`.vbuttons button[aria-label="Share your screen"]`)
	from.clickX(`//div[@role="menu"]//button[text()="720p 30 fps"]`)
	// A screen share is watched on request, as Go Live is.
	to.click(`.stage .tile.offer[data-user="` + fromID + `"][data-source="screen"]`)
	to.wait(playing("screen"))
	to.wait(`document.querySelector('.voicers li[data-user="` + fromID + `"] .live')`)
	to.click(`.stage .tile[data-user="` + fromID + `"][data-source="screen"]`)
	to.wait(`document.querySelector('.stage .tile.focused[data-source="screen"]') && !document.querySelector('.stage .tile[data-source="camera"]').offsetParent`)
	to.shot("2-watching")
	from.shot("2-sharing")

	from.click(`.vbuttons button[aria-label="Stop sharing"]`)
	from.click(`.vbuttons button[aria-label="Turn off camera"]`)
	to.wait(`!document.querySelector('.stage .tile[data-user="` + fromID + `"]') && document.querySelector('.stage').hidden`)
}

// TestVoiceJoinGivesUp: when the voice server never answers, the client
// does not stay "Connecting…": after its join timeout it says so and
// leaves the channel.
func TestVoiceJoinGivesUp(t *testing.T) {
	url := startNode(t)
	browser := newBrowser(t, voiceFlags...)
	vera := newPerson(t, browser, url, "vera", [2]int64{1280, 800})
	// Every voice gateway connection goes nowhere.
	vera.before(`const Real = window.WebSocket;
window.WebSocket = class extends Real {
	constructor(u, ...a) { super(String(u).includes('/voice') ? 'ws://127.0.0.1:9/' : u, ...a); }
};`)
	vera.register("correct horse battery")
	gid, _ := vera.newGuild("Quiet")
	var hall struct{ ID string }
	vera.api("POST", "/guilds/"+gid+"/channels", map[string]any{"name": "hall", "type": 2}, &hall)
	vera.open("/channels/" + gid + "/" + hall.ID)
	vera.click(`.chan[data-channel="` + hall.ID + `"]`)
	vera.wait(`document.querySelector('.vinfo strong') && document.querySelector('.vinfo strong').textContent === 'Connecting…'`)
	ctx, cancel := context.WithTimeout(vera.ctx, 40*time.Second)
	defer cancel()
	gaveUp := `[...document.querySelectorAll('.toast')].some((t) => t.textContent.includes('Could not connect to voice')) && document.querySelector('.voicepanel').hidden`
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](gaveUp, chromedp.WithPollingInterval(100*time.Millisecond))); err != nil {
		vera.shot("failed")
		t.Fatalf("the client never gave up on the voice join: %v", err)
	}
	vera.shot("gave-up")
}
