// Voice channels through the node's SFU (spec/voice.md). Gateway op 4
// joins, moves and leaves; VOICE_SERVER_UPDATE names the voice gateway,
// where the client identifies and negotiates two WebRTC connections: Up
// carries the microphone, Down everyone else's audio, offered by the SFU.
// Rings show who speaks: others from the audio levels of the packets
// received (the ssrc-audio-level extension the SFU forwards), oneself from
// the microphone's level as it is sent. Mute, deafen and the devices are
// remembered. A camera and a screen share are video tracks on Up, named by
// their source; what others show appears as tiles over the conversation,
// one of which a person may watch large.

import { h, icon, icons, toast } from './dom.js';
import * as modal from './modal.js';
import * as state from './state.js';

const op = { identify: 0, select: 1, ready: 2, heartbeat: 3, description: 4, hello: 8, resume: 7, video: 12, watch: 51 };
// The voice gateway's close codes that end the call rather than resume it.
const final = new Set([4001, 4003, 4004, 4006, 4011, 4014, 4016]);
// Received levels (0…1, linear) from −50 dBov up count as speech, as the
// SFU counts them; a ring stays lit this long after the last loud packet;
// levels are read this often.
const speechLevel = 10 ** (-50 / 20);
const speechHold = 400;
const levelEvery = 100;
// The browser's client heartbeats at least this often (Discord's web
// client does the same).
const maxBeat = 5000;
// A join whose media is not connected by then is given up, with a word
// why, rather than left "Connecting…" for ever.
const joinTimeout = 20000;

// A screen share's quality choices: Discord's tiers (spec/voice.md).
const qualities = [
	{ name: '720p 30 fps', height: 720, fps: 30, bitrate: 1_500_000 },
	{ name: '1080p 30 fps', height: 1080, fps: 30, bitrate: 2_500_000 },
	{ name: '480p 24 fps', height: 480, fps: 24, bitrate: 800_000 },
];
const sourceNames = { camera: 'Camera', screen: 'Screen' };

const prefsKey = 'concord.voice';
const prefs = Object.assign({ mute: false, deaf: false, input: '', output: '' }, JSON.parse(localStorage.getItem(prefsKey) || '{}'));

let call = null; // the call in progress
const speakers = new Set(); // user IDs whose ring is lit

function savePrefs() { localStorage.setItem(prefsKey, JSON.stringify(prefs)); }

// speaking says whether a user's ring is lit.
export function speaking(userID) { return speakers.has(userID); }

// current is the voice channel the person is in, or null.
export function current() { return call ? call.channelID : null; }

// join enters a voice channel, moving within the guild without a new
// connection, as Discord does.
export function join(app, channelID) {
	const c = state.channels.get(channelID);
	if (!c || (call && call.channelID === channelID)) return;
	if (call && call.guildID === c.guild_id) {
		call.channelID = channelID;
		call.state();
		draw(app);
		return;
	}
	if (call) leave(app);
	call = new Call(app, c.guild_id, channelID);
	call.start();
	draw(app);
}

// leave ends the call, telling the gateway.
export function leave(app) {
	if (!call) return;
	call.channelID = null;
	call.state();
	end(app);
}

function end(app) {
	if (!call) return;
	stop();
	state.emit('voice');
	draw(app);
}

// dispatch takes the gateway's voice events: the voice server to connect
// to, and one's own voice state, which a moderator may change.
export function dispatch(app, t, d) {
	if (!call || d.guild_id !== call.guildID) return;
	if (t === 'VOICE_SERVER_UPDATE') call.connect(d);
	else if (t === 'VOICE_STATE_UPDATE' && d.user_id === state.me.user.id && d.session_id === app.gateway.sessionID) {
		if (!d.channel_id) end(app);
		else if (d.channel_id !== call.channelID) {
			call.channelID = d.channel_id;
			draw(app);
		}
	}
}

// stop drops the call without telling anyone: the person signs out.
export function stop() {
	if (call) call.close();
	call = null;
	speakers.clear();
}

class Call {
	constructor(app, guildID, channelID) {
		this.app = app;
		this.guildID = guildID;
		this.channelID = channelID;
		this.ws = null;
		this.seq = null;
		this.up = null;
		this.down = null;
		this.downs = Promise.resolve();
		this.audios = new Map(); // track id → {el, user, receiver}
		this.sources = new Map(); // 'camera' or 'screen' → {sender, stream, trackID}
		this.tiles = new Map(); // user id + '/' + source → tile
		this.ups = Promise.resolve(); // Up's negotiations, one at a time
		this.levels = new Map(); // user id → {rtp: last RTP timestamp read, loud: when last loud}
		this.closed = false;
		this.mic = openMic().catch(() => {
			toast('No microphone could be opened: you can listen only.', 'error');
			return null;
		});
	}

	start() {
		this.state();
		this.meter = setInterval(() => this.measure(), levelEvery);
		this.giveUp = setTimeout(() => {
			if (this.closed || (this.up && this.up.connectionState === 'connected')) return;
			toast('Could not connect to voice: the voice server did not answer.', 'error');
			leave(this.app);
		}, joinTimeout);
	}

	// state sends op 4 with where the person is and how they hear.
	state() {
		this.app.gateway.voiceState(this.guildID, this.channelID, prefs.mute || prefs.deaf, prefs.deaf, this.sources.has('camera'));
	}

	connect(d) {
		this.token = d.token;
		this.endpoint = d.endpoint;
		this.sessionID = this.app.gateway.sessionID;
		this.open(false);
	}

	open(resuming) {
		if (this.ws) this.ws.close(1000);
		const proto = location.protocol === 'https:' ? 'wss' : 'ws';
		const ws = new WebSocket(`${proto}://${this.endpoint}?v=8`);
		this.ws = ws;
		this.resuming = resuming;
		ws.onmessage = (e) => this.receive(JSON.parse(e.data));
		ws.onclose = (e) => {
			if (ws !== this.ws || this.closed) return;
			clearInterval(this.beat);
			if (final.has(e.code)) {
				toast('You were disconnected from voice' + (e.reason ? ': ' + e.reason : '.'), 'error');
				end(this.app);
			} else setTimeout(() => !this.closed && this.open(true), 1000);
		};
	}

	send(o, d) {
		if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ op: o, d }));
	}

	async receive(p) {
		if (typeof p.seq === 'number') this.seq = p.seq;
		switch (p.op) {
		case op.hello: {
			clearInterval(this.beat);
			this.beat = setInterval(() => this.send(op.heartbeat, { t: Date.now(), seq_ack: this.seq ?? -1 }), Math.min(p.d.heartbeat_interval, maxBeat));
			const who = { server_id: this.guildID, session_id: this.sessionID, token: this.token };
			if (this.resuming) this.send(op.resume, { ...who, seq_ack: this.seq ?? -1 });
			else this.send(op.identify, { ...who, user_id: state.me.user.id });
			break;
		}
		case op.ready:
			this.ups = this.ups.then(() => this.offer(p.d.ice_servers || []));
			break;
		case op.video:
			// Another member's screen share reaches only those who ask to
			// watch it (op 51): offer it as a tile until they do.
			for (const s of p.d.streams || []) {
				if (s.type !== 'screen' || p.d.user_id === state.me.user.id) continue;
				if (!s.active) this.tile(p.d.user_id, 'screen', null);
				else if (!this.tiles.has(p.d.user_id + '/screen')) this.offerWatch(p.d.user_id);
			}
			break;
		case op.description:
			if (p.d.type === 'answer') {
				await this.up.setRemoteDescription({ type: 'answer', sdp: p.d.sdp });
				if (this.answered) this.answered();
			} else this.answerDown(p.d.sdp);
			break;
		}
	}

	// offer opens Up with the microphone and offers it (op 1).
	async offer(iceServers) {
		this.iceServers = iceServers;
		const mic = await this.mic;
		if (this.closed) return;
		this.up = new RTCPeerConnection({ iceServers });
		this.up.addEventListener('connectionstatechange', () => draw(this.app));
		if (mic) {
			this.track = mic.getAudioTracks()[0];
			this.track.enabled = !prefs.mute && !prefs.deaf;
			this.up.addTrack(this.track, mic);
		} else {
			this.up.addTransceiver('audio', { direction: 'sendonly' });
		}
		await this.up.setLocalDescription(await this.up.createOffer());
		await gathered(this.up);
		this.send(op.select, { protocol: 'webrtc', data: { sdp: this.named(this.up.localDescription.sdp) } });
	}

	// renegotiate offers Up again (op 4) once its tracks changed, and waits
	// for the answer.
	renegotiate() {
		this.ups = this.ups.then(async () => {
			if (this.closed) return;
			await this.up.setLocalDescription(await this.up.createOffer());
			await gathered(this.up);
			const answer = new Promise((ok) => { this.answered = ok; });
			this.send(op.description, { type: 'offer', sdp: this.named(this.up.localDescription.sdp) });
			await answer;
		}).catch((err) => toast('Video failed: ' + err.message, 'error'));
	}

	// named is Up's description as the SFU is told it: each video track
	// named by its source, which is how the SFU tells a camera from a
	// screen. The browser's own description keeps the browser's names.
	named(sdp) {
		for (const [source, s] of this.sources) sdp = sdp.split(' ' + s.trackID).join(' ' + source);
		return sdp;
	}

	// video starts sending a camera or a screen (stream), at most at
	// bitrate bits per second, or stops it (stream null).
	video(source, stream, bitrate) {
		const old = this.sources.get(source);
		if (old) {
			this.up.removeTrack(old.sender);
			old.stream.getTracks().forEach((t) => t.stop());
			this.sources.delete(source);
			this.tile(state.me.user.id, source, null);
		}
		if (stream) {
			const track = stream.getVideoTracks()[0];
			const sender = this.up.addTrack(track, stream);
			if (bitrate) {
				const p = sender.getParameters();
				if (p.encodings && p.encodings[0]) {
					p.encodings[0].maxBitrate = bitrate;
					sender.setParameters(p).catch(() => {});
				}
			}
			this.sources.set(source, { sender, stream, trackID: track.id });
			track.addEventListener('ended', () => this.video(source, null));
			this.tile(state.me.user.id, source, stream);
		}
		this.renegotiate();
		this.state();
		draw(this.app);
	}

	// tile shows a user's video from source, or takes it away (null).
	tile(userID, source, stream) {
		const key = userID + '/' + source;
		const old = this.tiles.get(key);
		if (old) old.remove();
		this.tiles.delete(key);
		if (stream) {
			const u = state.users.get(userID) || { id: userID };
			const v = h('video', { autoplay: true, muted: true, playsInline: true });
			v.srcObject = stream;
			const label = state.nameIn(this.guildID, u) + ' — ' + (sourceNames[source] || source);
			const t = h('button', { class: 'tile', 'data-user': userID, 'data-source': source, 'aria-label': 'Watch ' + label, title: label,
				onclick: () => t.classList.toggle('focused') }, v, h('span', { class: 'tlabel' }, label));
			this.tiles.set(key, t);
		}
		const stage = this.app.stage;
		stage.replaceChildren(...this.tiles.values());
		stage.hidden = !this.tiles.size;
	}

	// offerWatch shows a tile that asks the SFU for a user's screen share
	// (op 51); the share's video takes the tile's place when it arrives.
	offerWatch(userID) {
		const u = state.users.get(userID) || { id: userID };
		const label = state.nameIn(this.guildID, u) + ' — ' + sourceNames.screen;
		const t = h('button', { class: 'tile offer', 'data-user': userID, 'data-source': 'screen', 'aria-label': 'Watch ' + label, title: label,
			onclick: () => {
				t.disabled = true;
				this.send(op.watch, { user_id: userID, watch: true });
			} }, h('span', { class: 'tlabel' }, label), h('span', { class: 'twatch' }, 'Watch stream'));
		this.tiles.set(userID + '/screen', t);
		this.app.stage.replaceChildren(...this.tiles.values());
		this.app.stage.hidden = false;
	}

	// answerDown answers the SFU's offers of Down, one at a time.
	answerDown(sdp) {
		this.downs = this.downs.then(async () => {
			if (this.closed) return;
			if (!this.down) {
				this.down = new RTCPeerConnection({ iceServers: this.iceServers || [] });
				this.down.ontrack = (e) => this.received(e);
			}
			await this.down.setRemoteDescription({ type: 'offer', sdp });
			await this.down.setLocalDescription(await this.down.createAnswer());
			await gathered(this.down);
			this.send(op.description, { type: 'answer', sdp: this.down.localDescription.sdp });
		}).catch((err) => toast('Voice failed: ' + err.message, 'error'));
	}

	// received plays another member's audio; its stream is named by their
	// user ID.
	received(e) {
		const stream = e.streams[0] || new MediaStream([e.track]);
		if (e.track.kind === 'video') {
			// The SFU names a video track by its source.
			const source = e.track.id;
			this.tile(stream.id, source, new MediaStream([e.track]));
			stream.addEventListener('removetrack', (x) => {
				if (x.track === e.track) this.tile(stream.id, source, null);
			});
			return;
		}
		const el = h('audio', { autoplay: true, muted: prefs.deaf });
		el.srcObject = stream;
		if (prefs.output && el.setSinkId) el.setSinkId(prefs.output).catch(() => {});
		this.audios.set(e.track.id, { el, user: stream.id, receiver: e.receiver });
		e.track.addEventListener('ended', () => {
			this.audios.delete(e.track.id);
			this.ring(stream.id, false);
		});
	}

	// measure lights the rings of those whose latest packets are loud, and
	// one's own while the microphone sends loud.
	measure() {
		const now = performance.now();
		for (const a of this.audios.values()) {
			const l = this.level(a.user);
			for (const src of a.receiver.getSynchronizationSources()) {
				if (src.rtpTimestamp !== l.rtp && src.audioLevel >= speechLevel) l.loud = now;
				l.rtp = src.rtpTimestamp;
			}
			this.ring(a.user, now - l.loud < speechHold);
		}
		const me = state.me.user.id;
		if (this.up && this.track) {
			this.up.getStats(this.track).then((r) => {
				const l = this.level(me);
				for (const s of r.values()) {
					if (s.type === 'media-source' && this.track.enabled && s.audioLevel >= speechLevel) l.loud = now;
				}
				this.ring(me, performance.now() - l.loud < speechHold);
			}, () => {});
		}
	}

	level(userID) {
		if (!this.levels.has(userID)) this.levels.set(userID, { rtp: null, loud: -Infinity });
		return this.levels.get(userID);
	}

	ring(userID, on) {
		if (speakers.has(userID) === on) return;
		if (on) speakers.add(userID);
		else speakers.delete(userID);
		state.emit('voice', this.guildID);
	}

	// switchMic sends from the microphone chosen now, on the same
	// connection.
	async switchMic() {
		const mic = await openMic().catch(() => null);
		const sender = this.up && this.up.getSenders().find((s) => s.track && s.track === this.track);
		if (!mic || this.closed || !sender) {
			if (mic) mic.getTracks().forEach((t) => t.stop());
			return;
		}
		const track = mic.getAudioTracks()[0];
		track.enabled = this.track.enabled;
		await sender.replaceTrack(track);
		this.track.stop();
		this.track = track;
		this.mic = Promise.resolve(mic);
	}

	// hear applies mute and deafen to the microphone and the speakers.
	hear() {
		if (this.track) this.track.enabled = !prefs.mute && !prefs.deaf;
		for (const a of this.audios.values()) a.el.muted = prefs.deaf;
		this.state();
	}

	close() {
		this.closed = true;
		clearInterval(this.beat);
		clearInterval(this.meter);
		clearTimeout(this.giveUp);
		if (this.ws) this.ws.close(1000);
		for (const pc of [this.up, this.down]) if (pc) pc.close();
		for (const a of this.audios.values()) a.el.srcObject = null;
		this.mic.then((m) => m && m.getTracks().forEach((t) => t.stop()));
		for (const s of this.sources.values()) s.stream.getTracks().forEach((t) => t.stop());
		this.tiles.clear();
		this.app.stage.replaceChildren();
		this.app.stage.hidden = true;
	}
}

function openMic() {
	return navigator.mediaDevices.getUserMedia({ audio: prefs.input ? { deviceId: { exact: prefs.input } } : true });
}

// gathered waits until a connection's candidates are all in its
// description: the voice gateway takes no trickled candidates.
function gathered(pc) {
	if (pc.iceGatheringState === 'complete') return Promise.resolve();
	return new Promise((ok) => {
		const check = () => {
			if (pc.iceGatheringState === 'complete') {
				pc.removeEventListener('icegatheringstatechange', check);
				ok();
			}
		};
		pc.addEventListener('icegatheringstatechange', check);
	});
}

// controls are the user panel's mute and deafen buttons.
export function controls(app) {
	const muted = prefs.mute || prefs.deaf;
	return [
		h('button', { class: 'iconbtn' + (muted ? ' off' : ''), 'aria-label': 'Mute', 'aria-pressed': muted ? 'true' : 'false', title: muted ? 'Unmute' : 'Mute',
			onclick: () => set(app, { mute: !muted, deaf: muted && prefs.deaf ? false : prefs.deaf }) }, icon(icons.mic, 20)),
		h('button', { class: 'iconbtn' + (prefs.deaf ? ' off' : ''), 'aria-label': 'Deafen', 'aria-pressed': prefs.deaf ? 'true' : 'false', title: prefs.deaf ? 'Undeafen' : 'Deafen',
			onclick: () => set(app, { deaf: !prefs.deaf }) }, icon(icons.headphones, 20)),
	];
}

function set(app, change) {
	Object.assign(prefs, change);
	savePrefs();
	if (call) call.hear();
	app.drawUser();
}

// devices lets the person choose the microphone and speakers, for the
// settings.
export async function devices() {
	let list = [];
	try {
		list = await navigator.mediaDevices.enumerateDevices();
	} catch { /* none to offer */ }
	const pick = (kind, key, label) => {
		const s = h('select', { id: 'vd-' + key }, h('option', { value: '' }, 'Default'),
			list.filter((d) => d.kind === kind && d.deviceId && d.deviceId !== 'default').map((d, i) => h('option', { value: d.deviceId, selected: d.deviceId === prefs[key] }, d.label || `${label} ${i + 1}`)));
		s.addEventListener('change', () => {
			prefs[key] = s.value;
			savePrefs();
			if (call && key === 'output') for (const a of call.audios.values()) if (a.el.setSinkId) a.el.setSinkId(s.value).catch(() => {});
			if (call && key === 'input') call.switchMic();
		});
		return h('div', { class: 'field' }, h('label', { for: 'vd-' + key }, label), s);
	};
	return [pick('audioinput', 'input', 'Input device'), pick('audiooutput', 'output', 'Output device')];
}

// camera turns the camera on or off.
async function camera(app) {
	if (!call || !call.up) return;
	if (call.sources.has('camera')) {
		call.video('camera', null);
		return;
	}
	try {
		call.video('camera', await navigator.mediaDevices.getUserMedia({ video: { width: 1280, height: 720 } }));
	} catch (err) {
		toast('The camera could not be opened: ' + err.message, 'error');
	}
}

// share asks for a quality, then for the screen to share; or stops the
// share.
function share(app, anchor) {
	if (!call || !call.up) return;
	if (call.sources.has('screen')) {
		call.video('screen', null);
		return;
	}
	modal.menu(anchor, qualities.map((q) => [q.name, async () => {
		try {
			const s = await navigator.mediaDevices.getDisplayMedia({ video: { height: { max: q.height }, frameRate: { max: q.fps } }, audio: false });
			if (call) call.video('screen', s, q.bitrate);
		} catch (err) {
			toast('Nothing is shared: ' + err.message, 'error');
		}
	}]));
}

// draw shows the call's panel above the user panel: where the person is
// connected, the camera and the screen share, and the button that leaves.
function draw(app) {
	const p = app.voicePanel;
	p.hidden = app.callPill.hidden = !call;
	p.replaceChildren();
	app.callPill.replaceChildren();
	if (!call) return;
	const c = state.channels.get(call.channelID);
	const g = state.guilds.get(call.guildID);
	app.callPill.append(h('button', { class: 'iconbtn incall', 'aria-label': 'Voice connected to ' + (c ? c.name : 'a channel') + ': show', onclick: () => app.toggle('shownav') }, icon(icons.speaker, 20)),
		h('button', { class: 'iconbtn hangup', 'aria-label': 'Disconnect', onclick: () => leave(app) }, icon(icons.hangup, 20)));
	const cam = call.sources.has('camera');
	const sharing = call.sources.has('screen');
	// What the media connection does, as Discord says it.
	const media = call.up ? call.up.connectionState : 'new';
	const said = { connected: ['Voice Connected', ''], failed: ['Voice Disconnected', ' failed'], disconnected: ['Reconnecting…', ' waiting'] }[media] || ['Connecting…', ' waiting'];
	p.append(h('div', { class: 'vrow' }, h('div', { class: 'vinfo' + said[1], role: 'status' }, h('strong', {}, said[0]), h('span', {}, (c ? c.name : '') + (g ? ' / ' + g.name : ''))),
		h('button', { class: 'iconbtn hangup', 'aria-label': 'Disconnect', title: 'Disconnect', onclick: () => leave(app) }, icon(icons.hangup, 20))),
	h('div', { class: 'vrow vbuttons' },
		h('button', { class: 'vbtn' + (cam ? ' on' : ''), 'aria-label': cam ? 'Turn off camera' : 'Turn on camera', onclick: () => camera(app) }, icon(icons.camera, 18), 'Camera'),
		h('button', { class: 'vbtn' + (sharing ? ' on' : ''), 'aria-label': sharing ? 'Stop sharing' : 'Share your screen', onclick: (e) => share(app, e.currentTarget) }, icon(icons.screen, 18), sharing ? 'Stop' : 'Screen')));
}
