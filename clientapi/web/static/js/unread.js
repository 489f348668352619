// Read state: the last message a person has seen in each channel and how
// many mentions wait for them. The node has no read-state routes yet, so it
// is kept per browser, in localStorage.

import { cmpID } from './dom.js';
import * as state from './state.js';

let key = '';
let read = {}; // channel id → last read message id
let mentions = {}; // channel id → count

export function load(userID) {
	key = 'concord.read.' + userID;
	try {
		const s = JSON.parse(localStorage.getItem(key)) || {};
		read = s.read || {};
		mentions = s.mentions || {};
	} catch {
		read = {};
		mentions = {};
	}
}

function save() {
	if (key) localStorage.setItem(key, JSON.stringify({ read, mentions }));
}

// lastRead is the last message read in a channel ('' when none).
export function lastRead(channelID) { return read[channelID] || ''; }

// unread says whether a channel has messages newer than the last read.
export function unread(channelID) {
	const c = state.channels.get(channelID);
	if (!c || !c.last_message_id) return false;
	const r = read[channelID];
	if (!r) {
		// A channel never opened here: what was there before the person
		// first signed in on this browser does not count.
		read[channelID] = c.last_message_id;
		save();
		return false;
	}
	return cmpID(c.last_message_id, r) > 0;
}

export function mentionCount(channelID) { return mentions[channelID] || 0; }

// markRead records that everything up to messageID has been seen.
export function markRead(channelID, messageID) {
	if (!messageID) return;
	const changed = !read[channelID] || cmpID(messageID, read[channelID]) > 0 || mentions[channelID];
	if (!changed) return;
	if (!read[channelID] || cmpID(messageID, read[channelID]) > 0) read[channelID] = messageID;
	delete mentions[channelID];
	save();
	state.emit('unread', channelID);
}

// mentioned counts a message that mentions the person in a channel they are
// not looking at.
export function mentioned(channelID) {
	mentions[channelID] = (mentions[channelID] || 0) + 1;
	save();
	state.emit('unread', channelID);
}

// guildUnread sums a guild's channels: {unread, mentions}.
export function guildUnread(g) {
	let any = false;
	let n = 0;
	for (const c of g.channels.values()) {
		if (c.type === 4 || c.type === 2) continue;
		if (unread(c.id)) any = true;
		n += mentions[c.id] || 0;
	}
	return { unread: any, mentions: n };
}

// mentionsMe says whether a message mentions the person: by name, by a role
// they hold, or with @everyone.
export function mentionsMe(m) {
	const my = state.me.user;
	if (!my || m.author.id === my.id) return false;
	if (m.mention_everyone) return true;
	if ((m.mentions || []).some((u) => u.id === my.id)) return true;
	const mem = m.guild_id && state.member(m.guild_id, my.id);
	return !!mem && (m.mention_roles || []).some((r) => mem.roles.includes(r));
}
