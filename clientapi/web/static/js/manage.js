// Guild actions a person takes from menus: create or join a guild, invite
// people, create channels and categories, leave, set a nickname, and the
// moderation of one member (roles, timeout, kick, ban). The settings
// dialogs live in guildsettings.js.

import * as api from './api.js';
import { cmpID, h, toast } from './dom.js';
import * as gs from './guildsettings.js';
import * as modal from './modal.js';
import { P, can } from './perms.js';
import * as state from './state.js';

// hasPane says whether a channel opens as messages: not a voice channel,
// a stage or a category.
export function hasPane(c) {
	return c.type !== 2 && c.type !== 13 && c.type !== 4;
}

// firstChannel is the channel to open in a guild: the last one opened
// there if it still exists, else the first text channel the person sees.
export function firstChannel(gid, last) {
	const g = state.guilds.get(gid);
	if (!g) return null;
	if (last && g.channels.has(last) && hasPane(g.channels.get(last)) && can(last, P.VIEW_CHANNEL)) return last;
	const text = [...g.channels.values()].filter((c) => c.type === 0 || c.type === 5).filter((c) => can(c.id, P.VIEW_CHANNEL));
	const cats = new Map([...g.channels.values()].filter((c) => c.type === 4).map((c) => [c.id, c.position]));
	text.sort((a, b) => (a.parent_id ? cats.get(a.parent_id) + 1 : 0) - (b.parent_id ? cats.get(b.parent_id) + 1 : 0) || a.position - b.position || cmpID(a.id, b.id));
	return text.length ? text[0].id : null;
}

// inviteCode takes a code out of what a person pasted: a bare code or a
// link ending in /invite/<code>.
export function inviteCode(text) {
	const m = /(?:\/invite\/|^)([A-Za-z0-9-]{2,32})\/?$/.exec(text.trim());
	return m ? m[1] : null;
}

export function addGuild(app) {
	const body = h('div', { class: 'mbody addguild' });
	const d = modal.open('Add a server', body);
	const create = h('form', { class: 'half' }, h('h3', {}, 'Create your own'),
		h('label', { for: 'ng-name' }, 'Server name'),
		h('input', { id: 'ng-name', name: 'name', required: true, maxLength: 100, value: `${state.me.user.username}’s server` }),
		h('button', { type: 'submit', class: 'primary' }, 'Create'));
	const join = h('form', { class: 'half' }, h('h3', {}, 'Join a server'),
		h('label', { for: 'ng-code' }, 'Invite link or code'),
		h('input', { id: 'ng-code', name: 'code', required: true, placeholder: 'hTKzmak' }),
		h('button', { type: 'submit', class: 'primary' }, 'Join'));
	const err = h('div', { class: 'ferr', role: 'alert' });
	body.append(create, join, err);
	create.addEventListener('submit', async (e) => {
		e.preventDefault();
		try {
			const g = await api.post('/guilds', { name: create.elements.name.value.trim() });
			d.close();
			await waitGuild(g.id);
			app.openGuild(g.id);
		} catch (x) {
			err.textContent = x.text || String(x);
		}
	});
	join.addEventListener('submit', async (e) => {
		e.preventDefault();
		const code = inviteCode(join.elements.code.value);
		if (!code) {
			err.textContent = 'That is not an invite link or code.';
			return;
		}
		try {
			await accept(app, code);
			d.close();
		} catch (x) {
			err.textContent = x.text || String(x);
		}
	});
	create.elements.name.select();
}

// waitGuild resolves once the gateway has delivered a guild (or after a
// few seconds, when the guild page will fill in as it arrives).
function waitGuild(id) {
	return new Promise((ok) => {
		const g = state.guilds.get(id);
		if (g && !g.unavailable) return ok();
		const off = state.on('guild', (gid) => {
			if (gid === id) {
				off();
				ok();
			}
		});
		setTimeout(() => {
			off();
			ok();
		}, 5000);
	});
}

async function accept(app, code) {
	const inv = await api.post('/invites/' + encodeURIComponent(code));
	const gid = inv.guild ? inv.guild.id : inv.guild_id;
	await waitGuild(gid);
	if (inv.channel && state.channels.has(inv.channel.id)) app.openChannel(inv.channel.id);
	else app.openGuild(gid);
}

// pendingInvite offers the invite in the URL (/invite/<code>), kept across
// a login in sessionStorage.
export async function pendingInvite(app) {
	const code = sessionStorage.getItem('concord.invite');
	if (!code) return;
	sessionStorage.removeItem('concord.invite');
	let inv;
	try {
		inv = await api.get('/invites/' + encodeURIComponent(code) + '?with_counts=true');
	} catch (x) {
		toast('This invite is invalid or has expired.', 'error');
		return;
	}
	const name = inv.guild ? inv.guild.name : 'a server';
	if (await modal.confirm('Join ' + name + '?', `You were invited to join ${name}.`, 'Accept invite', false)) {
		try {
			await accept(app, code);
		} catch (x) {
			toast(x.text || String(x), 'error');
		}
	}
}

export async function invite(app, gid) {
	const c = state.channels.get(app.channelID) || state.channels.get(firstChannel(gid));
	if (!c) return;
	const body = h('div', { class: 'mbody' });
	const d = modal.open('Invite friends to ' + state.guilds.get(gid).name, body);
	const out = h('input', { readOnly: true, 'aria-label': 'Invite link', class: 'invitelink' });
	const copy = h('button', { class: 'primary' }, 'Copy');
	const age = h('select', { 'aria-label': 'Expire after' }, [[1800, '30 minutes'], [3600, '1 hour'], [21600, '6 hours'], [86400, '1 day'], [604800, '7 days'], [0, 'Never']]
		.map(([v, l]) => h('option', { value: v, selected: v === 604800 }, l)));
	const uses = h('select', { 'aria-label': 'Max uses' }, [[0, 'No limit'], [1, '1 use'], [5, '5 uses'], [10, '10 uses'], [25, '25 uses'], [100, '100 uses']]
		.map(([v, l]) => h('option', { value: v }, l)));
	const err = h('div', { class: 'ferr', role: 'alert' });
	const make = async () => {
		out.value = 'Creating…';
		try {
			const inv = await api.post(`/channels/${c.id}/invites`, { max_age: Number(age.value), max_uses: Number(uses.value) });
			out.value = `${location.origin}/invite/${inv.code}`;
			out.dataset.code = inv.code;
		} catch (x) {
			out.value = '';
			err.textContent = x.text || String(x);
		}
	};
	copy.addEventListener('click', async () => {
		out.select();
		try {
			await navigator.clipboard.writeText(out.value);
		} catch {
			document.execCommand('copy');
		}
		copy.textContent = 'Copied';
		setTimeout(() => { copy.textContent = 'Copy'; }, 1500);
	});
	age.addEventListener('change', make);
	uses.addEventListener('change', make);
	body.append(h('p', {}, 'Send a server invite link to a friend'), h('div', { class: 'row' }, out, copy),
		h('div', { class: 'row small' }, h('label', {}, 'Expire after ', age), h('label', {}, 'Max uses ', uses)), err);
	await make();
	d.querySelector('.invitelink').focus();
}

export async function createChannel(gid, parent, type) {
	const cat = type === 4;
	await modal.form(cat ? 'Create category' : 'Create channel', [
		cat ? null : { name: 'type', label: 'Channel type', options: [['0', 'Text'], ['2', 'Voice']], value: '0' },
		{ name: 'name', label: cat ? 'Category name' : 'Channel name', placeholder: cat ? 'New category' : 'new-channel' },
	].filter(Boolean), async (v) => {
		const body = { name: v.name.trim(), type: cat ? 4 : Number(v.type) };
		if (parent) body.parent_id = parent;
		await api.post(`/guilds/${gid}/channels`, body);
	}, 'Create');
}

export async function leave(gid) {
	const g = state.guilds.get(gid);
	if (await modal.confirm(`Leave ${g.name}`, `Are you sure you want to leave ${g.name}? You won’t be able to rejoin unless you are re-invited.`, 'Leave server')) {
		try {
			await api.del('/users/@me/guilds/' + gid);
		} catch (x) {
			toast(x.text || String(x), 'error');
		}
	}
}

export async function nickname(gid) {
	const m = state.member(gid, state.me.user.id);
	await modal.form('Server profile', [{ name: 'nick', label: 'Nickname', value: (m && m.nick) || '' }],
		(v) => api.patch(`/guilds/${gid}/members/@me`, { nick: v.nick.trim() || null }));
}

export async function memberRoles(gid, uid) {
	const g = state.guilds.get(gid);
	const m = g.members.get(uid);
	const roles = state.sortedRoles(g).filter((r) => r.id !== g.id && !r.managed);
	await modal.form('Roles of ' + state.nameIn(gid, m.user), roles.map((r) => ({ name: r.id, label: r.name, type: 'checkbox', value: m.roles.includes(r.id) })),
		(v) => api.patch(`/guilds/${gid}/members/${uid}`, { roles: Object.keys(v).filter((k) => v[k]) }));
}

export async function timeout(gid, uid) {
	const u = state.users.get(uid);
	await modal.form('Time out ' + state.nameIn(gid, u), [
		{ name: 'for', label: 'Duration', value: '600', options: [['60', '60 seconds'], ['300', '5 minutes'], ['600', '10 minutes'], ['3600', '1 hour'], ['86400', '1 day'], ['604800', '1 week'], ['0', 'Remove timeout']] },
		{ name: 'reason', label: 'Reason (optional)' },
	], (v) => {
		const s = Number(v.for);
		return reasoned('PATCH', `/guilds/${gid}/members/${uid}`, { communication_disabled_until: s ? new Date(Date.now() + s * 1000).toISOString() : null }, v.reason);
	}, 'Time out');
}

// voice changes a member's voice as a moderator: server mute or deafen,
// or a disconnect (channel_id null), as Discord's member PATCH does.
export function voice(gid, uid, change) {
	api.patch(`/guilds/${gid}/members/${uid}`, change).catch((err) => toast(err.text || String(err), 'error'));
}

// moveVoice asks where to move a member in voice to, and moves them.
export async function moveVoice(gid, uid) {
	const g = state.guilds.get(gid);
	const v = state.voice.get(uid);
	const others = [...g.channels.values()].filter((c) => c.type === 2 && (!v || c.id !== v.channel_id));
	if (!others.length) {
		toast('There is no other voice channel to move to.', 'error');
		return;
	}
	await modal.form('Move ' + state.nameIn(gid, state.users.get(uid)), [{ name: 'to', label: 'Voice channel', options: others.map((c) => [c.id, c.name]) }],
		(f) => api.patch(`/guilds/${gid}/members/${uid}`, { channel_id: f.to }), 'Move');
}

export async function kick(gid, uid) {
	const u = state.users.get(uid);
	await modal.form('Kick ' + state.nameIn(gid, u), [{ name: 'reason', label: 'Reason (optional)' }],
		(v) => reasoned('DELETE', `/guilds/${gid}/members/${uid}`, undefined, v.reason), 'Kick');
}

export async function ban(gid, uid) {
	const u = state.users.get(uid);
	await modal.form('Ban ' + state.nameIn(gid, u), [
		{ name: 'delete', label: 'Delete message history', value: '0', options: [['0', 'Don’t delete any'], ['3600', 'Previous hour'], ['86400', 'Previous 24 hours'], ['604800', 'Previous 7 days']] },
		{ name: 'reason', label: 'Reason (optional)' },
	], (v) => reasoned('PUT', `/guilds/${gid}/bans/${uid}`, { delete_message_seconds: Number(v.delete) }, v.reason), 'Ban');
}

// reasoned sends a moderation request with its reason for the audit log.
function reasoned(method, path, body, reason) {
	return api.call(method, path + (reason ? api.q({ reason }) : ''), body);
}

export function guildSettings(gid) { gs.guild(gid); }
export function channelSettings(cid) { gs.channel(cid); }

// dm opens (or finds) the DM channel with a user.
export async function dm(userID) {
	for (const c of state.dms.values()) if (c.type === 1 && c.recipients[0] && c.recipients[0].id === userID) return c;
	try {
		const c = await api.post('/users/@me/channels', { recipient_id: userID });
		state.apply('CHANNEL_CREATE', c);
		return state.channels.get(c.id);
	} catch (x) {
		toast(x.text || String(x), 'error');
		return null;
	}
}
