// Timelines: the messages the client holds for each channel it has opened,
// oldest first, fetched a page at a time as the person scrolls, and kept up
// to date by the gateway. A timeline knows whether it reaches the channel's
// first message (start) and its newest (end); live messages join only a
// timeline that reaches the end.

import * as api from './api.js';
import { cmpID } from './dom.js';
import * as state from './state.js';

const page = 100;

const timelines = new Map();

class Timeline {
	constructor(channelID) {
		this.channel = channelID;
		this.msgs = [];
		this.start = false;
		this.end = false;
		this.loading = null;
		this.early = []; // live messages that came while the newest page loaded
	}

	index(id) {
		let lo = 0;
		let hi = this.msgs.length;
		while (lo < hi) {
			const mid = (lo + hi) >> 1;
			if (cmpID(this.msgs[mid].id, id) < 0) lo = mid + 1;
			else hi = mid;
		}
		return lo;
	}

	find(id) {
		const i = this.index(id);
		return this.msgs[i] && this.msgs[i].id === id ? i : -1;
	}

	// latest loads the newest page, replacing whatever was held.
	latest() {
		return this.load(api.q({ limit: 50 }), (got) => {
			this.msgs = got;
			this.end = true;
			this.start = got.length < 50;
			// A message sent while the page was on its way may be missing
			// from it: the gateway's copy takes its place.
			for (const m of this.early) this.add(m);
		});
	}

	// around loads the page around one message, for a jump.
	around(id) {
		return this.load(api.q({ around: id, limit: page }), (got) => {
			this.msgs = got;
			this.end = false;
			this.start = false;
		});
	}

	// older loads the page before the oldest held; it returns how many
	// messages were added at the front.
	older() {
		if (this.start || !this.msgs.length) return Promise.resolve(0);
		return this.load(api.q({ before: this.msgs[0].id, limit: page }), (got) => {
			if (got.length < page) this.start = true;
			this.msgs = got.concat(this.msgs);
			return got.length;
		});
	}

	newer() {
		if (this.end || !this.msgs.length) return Promise.resolve(0);
		return this.load(api.q({ after: this.msgs[this.msgs.length - 1].id, limit: page }), (got) => {
			if (got.length < page) this.end = true;
			this.msgs = this.msgs.concat(got);
			return got.length;
		});
	}

	load(query, apply) {
		if (this.loading) return this.loading.then(() => 0);
		this.loading = api.get(`/channels/${this.channel}/messages${query}`).then((got) => {
			for (const m of got) state.addUser(m.author);
			got.sort((a, b) => cmpID(a.id, b.id));
			return apply(got);
		}).finally(() => { this.loading = null; this.early = []; });
		return this.loading;
	}

	// add puts a message in its place (or replaces it); it returns the
	// index, or -1 when the timeline does not hold that stretch.
	add(m) {
		const i = this.index(m.id);
		if (this.msgs[i] && this.msgs[i].id === m.id) {
			this.msgs[i] = m;
			return i;
		}
		if (i === this.msgs.length && !this.end) {
			if (this.loading) this.early.push(m);
			return -1;
		}
		if (i === 0 && !this.start && this.msgs.length) return -1;
		this.msgs.splice(i, 0, m);
		return i;
	}

	remove(id) {
		const i = this.find(id);
		if (i >= 0) this.msgs.splice(i, 1);
		return i;
	}
}

export function timeline(channelID) {
	if (!timelines.has(channelID)) timelines.set(channelID, new Timeline(channelID));
	return timelines.get(channelID);
}

export function held(channelID) { return timelines.get(channelID) || null; }

export function reset() { timelines.clear(); }

// reaction applies a reaction change to a held message; it returns the
// message or null.
export function reaction(t, d) {
	const tl = timelines.get(d.channel_id);
	const i = tl ? tl.find(d.message_id) : -1;
	if (i < 0) return null;
	const m = tl.msgs[i];
	const mine = state.me.user && d.user_id === state.me.user.id;
	const key = (e) => e.id || e.name;
	let list = m.reactions || [];
	if (t === 'MESSAGE_REACTION_REMOVE_ALL') list = [];
	else if (t === 'MESSAGE_REACTION_REMOVE_EMOJI') list = list.filter((r) => key(r.emoji) !== key(d.emoji));
	else {
		let r = list.find((x) => key(x.emoji) === key(d.emoji));
		if (t === 'MESSAGE_REACTION_ADD') {
			if (!r) {
				r = { emoji: d.emoji, count: 0, me: false };
				list = list.concat([r]);
			}
			if (!(mine && r.me)) r.count++;
			if (mine) r.me = true;
		} else if (r) {
			r.count--;
			if (mine) r.me = false;
			if (r.count <= 0) list = list.filter((x) => x !== r);
		}
	}
	m.reactions = list;
	return m;
}
