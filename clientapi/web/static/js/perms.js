// Discord's permission model, so that the client offers only what the
// node would allow (the node decides; this only hides what would fail).

import * as state from './state.js';

export const P = {
	CREATE_INSTANT_INVITE: 1n << 0n,
	KICK_MEMBERS: 1n << 1n,
	BAN_MEMBERS: 1n << 2n,
	ADMINISTRATOR: 1n << 3n,
	MANAGE_CHANNELS: 1n << 4n,
	MANAGE_GUILD: 1n << 5n,
	ADD_REACTIONS: 1n << 6n,
	VIEW_AUDIT_LOG: 1n << 7n,
	PRIORITY_SPEAKER: 1n << 8n,
	STREAM: 1n << 9n,
	VIEW_CHANNEL: 1n << 10n,
	SEND_MESSAGES: 1n << 11n,
	SEND_TTS_MESSAGES: 1n << 12n,
	MANAGE_MESSAGES: 1n << 13n,
	EMBED_LINKS: 1n << 14n,
	ATTACH_FILES: 1n << 15n,
	READ_MESSAGE_HISTORY: 1n << 16n,
	MENTION_EVERYONE: 1n << 17n,
	USE_EXTERNAL_EMOJIS: 1n << 18n,
	CONNECT: 1n << 20n,
	SPEAK: 1n << 21n,
	MUTE_MEMBERS: 1n << 22n,
	DEAFEN_MEMBERS: 1n << 23n,
	MOVE_MEMBERS: 1n << 24n,
	USE_VAD: 1n << 25n,
	CHANGE_NICKNAME: 1n << 26n,
	MANAGE_NICKNAMES: 1n << 27n,
	MANAGE_ROLES: 1n << 28n,
	MANAGE_WEBHOOKS: 1n << 29n,
	MODERATE_MEMBERS: 1n << 40n,
};

// What the permission editor lists, in Discord's groups, with the words
// people know them by.
export const groups = [
	['General', [
		['VIEW_CHANNEL', 'View channels'], ['MANAGE_CHANNELS', 'Manage channels'], ['MANAGE_ROLES', 'Manage roles'],
		['MANAGE_GUILD', 'Manage server'], ['VIEW_AUDIT_LOG', 'View audit log'], ['MANAGE_WEBHOOKS', 'Manage webhooks'],
	]],
	['Membership', [
		['CREATE_INSTANT_INVITE', 'Create invite'], ['CHANGE_NICKNAME', 'Change nickname'], ['MANAGE_NICKNAMES', 'Manage nicknames'],
		['KICK_MEMBERS', 'Kick members'], ['BAN_MEMBERS', 'Ban members'], ['MODERATE_MEMBERS', 'Time out members'],
	]],
	['Text', [
		['SEND_MESSAGES', 'Send messages'], ['EMBED_LINKS', 'Embed links'], ['ATTACH_FILES', 'Attach files'],
		['ADD_REACTIONS', 'Add reactions'], ['USE_EXTERNAL_EMOJIS', 'Use external emoji'], ['MENTION_EVERYONE', 'Mention @everyone and @here'],
		['MANAGE_MESSAGES', 'Manage messages'], ['READ_MESSAGE_HISTORY', 'Read message history'], ['SEND_TTS_MESSAGES', 'Send text-to-speech messages'],
	]],
	['Voice', [
		['CONNECT', 'Connect'], ['SPEAK', 'Speak'], ['STREAM', 'Video'], ['USE_VAD', 'Use voice activity'],
		['PRIORITY_SPEAKER', 'Priority speaker'], ['MUTE_MEMBERS', 'Mute members'], ['DEAFEN_MEMBERS', 'Deafen members'], ['MOVE_MEMBERS', 'Move members'],
	]],
	['Advanced', [['ADMINISTRATOR', 'Administrator']]],
];

const all = Object.values(P).reduce((a, b) => a | b, 0n);

// base is a member's guild-wide permissions.
export function base(g, userID) {
	if (!g || g.owner_id === userID) return all;
	const m = g.members.get(userID);
	const everyone = g.roles.get(g.id);
	let p = everyone ? BigInt(everyone.permissions) : 0n;
	for (const id of (m && m.roles) || []) {
		const r = g.roles.get(id);
		if (r) p |= BigInt(r.permissions);
	}
	return p & P.ADMINISTRATOR ? all : p;
}

// inChannel is a member's permissions in a channel of a guild, overwrites
// applied (everyone, then roles together, then the member), with the
// implicit denies.
export function inChannel(channelID, userID = state.me.user && state.me.user.id) {
	const c = state.channels.get(channelID);
	if (!c) return 0n;
	if (!c.guild_id) return P.VIEW_CHANNEL | P.SEND_MESSAGES | P.READ_MESSAGE_HISTORY | P.ATTACH_FILES | P.ADD_REACTIONS | P.EMBED_LINKS;
	const g = state.guilds.get(c.guild_id);
	let p = base(g, userID);
	if (p === all) return all;
	const ow = c.permission_overwrites || [];
	const apply = (o) => {
		if (o) p = (p & ~BigInt(o.deny)) | BigInt(o.allow);
	};
	apply(ow.find((o) => o.id === g.id));
	const m = g.members.get(userID);
	let allow = 0n;
	let deny = 0n;
	for (const o of ow) {
		if (o.type === 0 && o.id !== g.id && m && m.roles.includes(o.id)) {
			allow |= BigInt(o.allow);
			deny |= BigInt(o.deny);
		}
	}
	p = (p & ~deny) | allow;
	apply(ow.find((o) => o.type === 1 && o.id === userID));
	if (!(p & P.VIEW_CHANNEL)) return 0n;
	if (!(p & P.SEND_MESSAGES)) p &= ~(P.MENTION_EVERYONE | P.SEND_TTS_MESSAGES | P.ATTACH_FILES | P.EMBED_LINKS);
	if (m && m.communication_disabled_until && Date.parse(m.communication_disabled_until) > Date.now()) {
		p &= P.VIEW_CHANNEL | P.READ_MESSAGE_HISTORY;
	}
	return p;
}

// can says whether the person holds bit in a channel.
export function can(channelID, bit) { return (inChannel(channelID) & bit) === bit; }

// canGuild says whether the person holds bit guild-wide.
export function canGuild(guildID, bit) {
	const g = state.guilds.get(guildID);
	return !!state.me.user && (base(g, state.me.user.id) & bit) === bit;
}

// highest is the position of a member's highest role (owner: Infinity).
export function highest(g, userID) {
	if (g.owner_id === userID) return Infinity;
	const m = g.members.get(userID);
	let top = 0;
	for (const id of (m && m.roles) || []) {
		const r = g.roles.get(id);
		if (r && r.position > top) top = r.position;
	}
	return top;
}
