// What the client knows: the person, their guilds with channels, roles and
// members, DMs, relationships, presences, typing and read state. The
// gateway's dispatches change it (apply); screens read it and subscribe to
// the topics they draw (on). Messages live in history.js.

import { cmpID } from './dom.js';

export const me = { user: null };
export const users = new Map(); // id → user
export const guilds = new Map(); // id → guild {…, channels: Map, roles: Map, members: Map}
export const channels = new Map(); // id → channel, guild channels and DMs alike
export const dms = new Map(); // id → private channel
export const relationships = new Map(); // user id → {id, type, user}
export const presences = new Map(); // user id → status
export const voice = new Map(); // user id → voice state, for the channel list
const typing = new Map(); // channel id → Map(user id → expiry ms)

const subs = new Map();

// on calls fn(detail) whenever topic is emitted; it returns the undo.
export function on(topic, fn) {
	if (!subs.has(topic)) subs.set(topic, new Set());
	subs.get(topic).add(fn);
	return () => subs.get(topic).delete(fn);
}

export function emit(topic, detail) {
	for (const fn of subs.get(topic) || []) fn(detail);
}

export function addUser(u) {
	if (!u || !u.id) return u;
	const old = users.get(u.id);
	const merged = old ? Object.assign(old, u) : { ...u };
	users.set(u.id, merged);
	return merged;
}

function putMember(g, m) {
	const u = addUser(m.user);
	const id = u ? u.id : m.user_id;
	const old = g.members.get(id);
	g.members.set(id, Object.assign(old || {}, m, { user: u || (old && old.user) }));
}

function putChannel(c) {
	if (c.recipients) c.recipients = c.recipients.map(addUser);
	const old = channels.get(c.id);
	const ch = old ? Object.assign(old, c) : c;
	channels.set(c.id, ch);
	if (c.guild_id && guilds.has(c.guild_id)) guilds.get(c.guild_id).channels.set(c.id, ch);
	if (c.type === 1 || c.type === 3) dms.set(c.id, ch);
	return ch;
}

function guildCreate(d) {
	const g = Object.assign(guilds.get(d.id) || {}, d, { channels: new Map(), roles: new Map(), members: new Map() });
	delete g.unavailable;
	guilds.set(d.id, g);
	for (const r of d.roles || []) g.roles.set(r.id, r);
	for (const c of d.channels || []) putChannel({ ...c, guild_id: d.id });
	for (const m of d.members || []) putMember(g, m);
	for (const p of d.presences || []) presences.set(p.user.id, p.status);
	for (const v of d.voice_states || []) if (v.channel_id) voice.set(v.user_id, { ...v, guild_id: d.id });
	delete g.presences;
	delete g.voice_states;
}

// apply folds one dispatch into the state and emits what changed.
export function apply(t, d) {
	switch (t) {
	case 'READY':
		me.user = addUser(d.user);
		for (const c of d.private_channels || []) putChannel(c);
		for (const p of d.presences || []) presences.set(p.user.id, p.status);
		for (const g of d.guilds) if (!guilds.has(g.id)) guilds.set(g.id, { id: g.id, unavailable: true, channels: new Map(), roles: new Map(), members: new Map() });
		emit('ready');
		break;
	case 'GUILD_CREATE':
		guildCreate(d);
		emit('guilds');
		emit('guild', d.id);
		break;
	case 'GUILD_UPDATE': {
		const g = guilds.get(d.id);
		if (!g) break;
		const { roles } = d;
		Object.assign(g, d, { channels: g.channels, members: g.members, roles: g.roles });
		if (roles) for (const r of roles) g.roles.set(r.id, r);
		emit('guilds');
		emit('guild', d.id);
		break;
	}
	case 'GUILD_DELETE': {
		const g = guilds.get(d.id);
		if (g) for (const id of g.channels.keys()) channels.delete(id);
		guilds.delete(d.id);
		emit('guilds');
		emit('guild', d.id);
		break;
	}
	case 'GUILD_ROLE_CREATE':
	case 'GUILD_ROLE_UPDATE': {
		const g = guilds.get(d.guild_id);
		if (g) g.roles.set(d.role.id, d.role);
		emit('guild', d.guild_id);
		break;
	}
	case 'GUILD_ROLE_DELETE': {
		const g = guilds.get(d.guild_id);
		if (g) g.roles.delete(d.role_id);
		emit('guild', d.guild_id);
		break;
	}
	case 'CHANNEL_CREATE':
	case 'CHANNEL_UPDATE':
		putChannel(d);
		emit(d.guild_id ? 'guild' : 'dms', d.guild_id);
		emit('channel', d.id);
		break;
	case 'CHANNEL_DELETE': {
		channels.delete(d.id);
		dms.delete(d.id);
		const g = guilds.get(d.guild_id);
		if (g) g.channels.delete(d.id);
		emit(d.guild_id ? 'guild' : 'dms', d.guild_id);
		emit('channel', d.id);
		break;
	}
	case 'CHANNEL_RECIPIENT_ADD':
	case 'CHANNEL_RECIPIENT_REMOVE': {
		const c = channels.get(d.channel_id);
		if (c) {
			const others = (c.recipients || []).filter((u) => u.id !== d.user.id);
			if (t === 'CHANNEL_RECIPIENT_ADD') others.push(addUser(d.user));
			c.recipients = others;
		}
		emit('dms');
		break;
	}
	case 'GUILD_MEMBER_ADD':
	case 'GUILD_MEMBER_UPDATE': {
		const g = guilds.get(d.guild_id);
		if (g) putMember(g, d);
		emit('members', d.guild_id);
		break;
	}
	case 'GUILD_MEMBER_REMOVE': {
		const g = guilds.get(d.guild_id);
		if (g) g.members.delete(d.user.id);
		emit('members', d.guild_id);
		break;
	}
	case 'GUILD_MEMBERS_CHUNK': {
		const g = guilds.get(d.guild_id);
		if (!g) break;
		for (const m of d.members) putMember(g, m);
		for (const p of d.presences || []) presences.set(p.user.id, p.status);
		if (d.nonce === 'all' && d.chunk_index === d.chunk_count - 1) g.membersLoaded = true;
		emit('members', d.guild_id);
		break;
	}
	case 'PRESENCE_UPDATE':
		if (d.user.username) addUser(d.user);
		presences.set(d.user.id, d.status);
		emit('presence', d.user.id);
		break;
	case 'USER_UPDATE':
		addUser(d);
		if (me.user && d.id === me.user.id) emit('me');
		emit('presence', d.id);
		break;
	case 'TYPING_START': {
		if (me.user && d.user_id === me.user.id) break;
		if (d.member && d.member.user) addUser(d.member.user);
		if (!typing.has(d.channel_id)) typing.set(d.channel_id, new Map());
		typing.get(d.channel_id).set(d.user_id, Date.now() + 10_000);
		emit('typing', d.channel_id);
		setTimeout(() => emit('typing', d.channel_id), 10_100);
		break;
	}
	case 'MESSAGE_CREATE': {
		addUser(d.author);
		const tm = typing.get(d.channel_id);
		if (tm && tm.delete(d.author.id)) emit('typing', d.channel_id);
		const c = channels.get(d.channel_id);
		if (c && (!c.last_message_id || cmpID(d.id, c.last_message_id) > 0)) c.last_message_id = d.id;
		break;
	}
	case 'RELATIONSHIP_ADD':
		relationships.set(d.id, { ...d, user: addUser(d.user) });
		emit('relationships');
		break;
	case 'RELATIONSHIP_REMOVE':
		relationships.delete(d.id);
		emit('relationships');
		break;
	case 'VOICE_STATE_UPDATE':
		if (d.channel_id) voice.set(d.user_id, d);
		else voice.delete(d.user_id);
		emit('voice', d.guild_id);
		break;
	}
}

// typers lists who is typing in a channel now.
export function typers(channelID) {
	const m = typing.get(channelID);
	if (!m) return [];
	const now = Date.now();
	const out = [];
	for (const [id, until] of m) {
		if (until > now) out.push(users.get(id) || { id });
		else m.delete(id);
	}
	return out;
}

// member is a guild's member, or null.
export function member(guildID, userID) {
	const g = guilds.get(guildID);
	return (g && g.members.get(userID)) || null;
}

// nameIn is how a user is called in a guild: nickname, then display name.
export function nameIn(guildID, user) {
	const m = guildID && user && member(guildID, user.id);
	if (m && m.nick) return m.nick;
	if (!user) return 'Unknown user';
	const u = users.get(user.id) || user;
	return u.global_name || u.username || u.id;
}

// sortedRoles lists a guild's roles from the highest.
export function sortedRoles(g) {
	return [...g.roles.values()].sort((a, b) => b.position - a.position || cmpID(a.id, b.id));
}

// colorOf is the colour of a member's highest coloured role, or ''.
export function colorOf(guildID, userID) {
	const g = guilds.get(guildID);
	const m = g && g.members.get(userID);
	if (!m) return '';
	let best = null;
	for (const id of m.roles || []) {
		const r = g.roles.get(id);
		if (r && r.color && (!best || r.position > best.position)) best = r;
	}
	return best ? '#' + best.color.toString(16).padStart(6, '0') : '';
}

// reset forgets everything, subscribers too: the screens that listened
// are gone with the session.
export function reset() {
	for (const m of [users, guilds, channels, dms, relationships, presences, voice, typing, subs]) m.clear();
	me.user = null;
}
