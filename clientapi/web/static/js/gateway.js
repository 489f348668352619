// Discord's gateway (spec/gateway.md) as a person's client uses it:
// identify once, resume after every drop, and say what the connection is
// doing so the page can show it.

import { token } from './api.js';

// Everything a person's client may ask for; people are not limited by the
// privileged intents.
const intents = (1 << 17) - 1;
const maxBackoff = 30_000;

// States the page shows: 'connecting' before the first READY, 'connected',
// 'reconnecting' after a drop, 'offline' when the browser says so.
export class Gateway {
	constructor(onDispatch, onState, onAuthFailed) {
		this.onDispatch = onDispatch;
		this.onState = onState;
		this.onAuthFailed = onAuthFailed;
		this.ws = null;
		this.seq = null;
		this.sessionID = null;
		this.attempts = 0;
		this.stopped = false;
		this.state = 'connecting';
		this.presence = null;
		addEventListener('online', () => this.reconnectNow());
		// A connection through a network that is gone may take minutes to
		// notice; drop it now and resume when the network is back.
		addEventListener('offline', () => {
			if (this.ws) this.ws.close(4000);
		});
	}

	setState(s) {
		if (this.state === s) return;
		this.state = s;
		this.onState(s, this.attempts);
	}

	start() {
		this.stopped = false;
		this.open();
	}

	stop() {
		this.stopped = true;
		clearInterval(this.beat);
		clearTimeout(this.retry);
		if (this.ws) this.ws.close(1000);
		this.ws = null;
		this.sessionID = null;
	}

	open() {
		clearTimeout(this.retry);
		const proto = location.protocol === 'https:' ? 'wss' : 'ws';
		const ws = new WebSocket(`${proto}://${location.host}/gateway?v=10&encoding=json`);
		this.ws = ws;
		ws.onmessage = (e) => this.receive(JSON.parse(e.data));
		ws.onclose = (e) => this.closed(ws, e.code);
	}

	send(op, d) {
		if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ op, d }));
	}

	async receive(p) {
		switch (p.op) {
		case 10: // hello
			this.startBeating(p.d.heartbeat_interval);
			await this.hello();
			break;
		case 11:
			this.acked = true;
			break;
		case 1:
			this.send(1, this.seq);
			break;
		case 7: // reconnect: resume on a new connection
			this.ws.close(4000);
			break;
		case 9: // invalid session: resumable or not
			if (!p.d) {
				this.sessionID = null;
				this.seq = null;
			}
			setTimeout(() => this.hello(), 1000 + Math.random() * 2000);
			break;
		case 0:
			this.seq = p.s;
			if (p.t === 'READY') this.sessionID = p.d.session_id;
			if (p.t === 'READY' || p.t === 'RESUMED') {
				this.attempts = 0;
				this.setState('connected');
			}
			this.onDispatch(p.t, p.d);
			break;
		}
	}

	async hello() {
		let t;
		try {
			t = await token();
		} catch {
			this.ws.close(4000);
			return;
		}
		if (this.sessionID) {
			this.send(6, { token: t, session_id: this.sessionID, seq: this.seq });
			return;
		}
		const d = {
			token: t,
			intents,
			properties: { os: navigator.platform || 'web', browser: 'Concord web', device: '' },
			large_threshold: 250,
		};
		if (this.presence) d.presence = this.presence;
		this.send(2, d);
	}

	startBeating(interval) {
		clearInterval(this.beat);
		this.acked = true;
		const beat = () => {
			if (!this.acked) {
				// No answer to the last beat: the connection is a zombie.
				this.ws.close(4000);
				return;
			}
			this.acked = false;
			this.send(1, this.seq);
		};
		setTimeout(beat, interval * Math.random());
		this.beat = setInterval(beat, interval);
	}

	closed(ws, code) {
		if (ws !== this.ws) return;
		clearInterval(this.beat);
		this.ws = null;
		if (this.stopped) return;
		if (code === 4004) {
			// The token was refused: the session ended elsewhere.
			this.onAuthFailed();
			return;
		}
		if (code >= 4010 && code <= 4014) {
			this.setState('failed');
			return;
		}
		if (code === 4007 || code === 4009) {
			this.sessionID = null;
			this.seq = null;
		}
		this.attempts++;
		if (navigator.onLine === false) {
			this.setState('offline'); // the online event reconnects
			return;
		}
		this.setState('reconnecting');
		const wait = Math.min(maxBackoff, 500 * 2 ** Math.min(this.attempts, 6)) * (0.5 + Math.random() / 2);
		this.retry = setTimeout(() => this.open(), this.attempts === 1 ? 250 : wait);
	}

	reconnectNow() {
		if (this.stopped || (this.ws && this.ws.readyState === WebSocket.OPEN)) return;
		this.open();
	}

	// setPresence tells the gateway the person's status (op 3).
	setPresence(status) {
		this.presence = { status, since: 0, activities: [], afk: false };
		this.send(3, this.presence);
	}

	// voiceState joins, moves within or leaves (channelID null) a guild's
	// voice channels, and says whether the person is muted or deafened
	// and whether their camera is on (op 4).
	voiceState(guildID, channelID, mute, deaf, video) {
		this.send(4, { guild_id: guildID, channel_id: channelID, self_mute: mute, self_deaf: deaf, self_video: !!video });
	}

	// requestMembers asks for a guild's whole member list with presences,
	// or for some members' when userIDs are given.
	requestMembers(guildID, userIDs) {
		if (userIDs) this.send(8, { guild_id: guildID, user_ids: userIDs, presences: true });
		else this.send(8, { guild_id: guildID, query: '', limit: 0, presences: true, nonce: 'all' });
	}
}
