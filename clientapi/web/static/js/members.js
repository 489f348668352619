// The member list, grouped as Discord groups it: online members under
// their highest hoisted role, the other online members, then offline; and
// the user popout with what the person may do to that member.

import * as api from './api.js';
import * as commands from './commands.js';
import { avatar, clear, displayName, fmtDay, h, idTime } from './dom.js';
import * as modal from './modal.js';
import { P, canGuild, highest } from './perms.js';
import * as state from './state.js';

// The list draws at most this many members; a bigger guild shows a note.
const maxShown = 500;

export class Members {
	constructor(app) {
		this.app = app;
		this.el = h('aside', { class: 'members', 'aria-label': 'Members' });
		const redraw = () => {
			if (!this.queued) {
				this.queued = true;
				requestAnimationFrame(() => {
					this.queued = false;
					this.draw();
				});
			}
		};
		for (const t of ['members', 'presence', 'guild', 'dms']) state.on(t, redraw);
		this.el.addEventListener('click', (e) => {
			const u = e.target.closest('[data-user]');
			if (u) this.app.profile(u.dataset.user, u);
		});
	}

	draw() {
		const gid = this.app.guildID;
		const g = state.guilds.get(gid);
		if (!g) {
			const c = state.channels.get(this.app.channelID);
			if (c && c.type === 3) this.drawGroup(c);
			else clear(this.el);
			return;
		}
		const hoisted = state.sortedRoles(g).filter((r) => r.hoist && r.id !== g.id);
		const groups = new Map(hoisted.map((r) => [r.id, []]));
		const online = [];
		const offline = [];
		for (const m of g.members.values()) {
			if (!m.user) continue;
			const st = state.presences.get(m.user.id) || 'offline';
			if (st === 'offline' || st === 'invisible') {
				offline.push(m);
				continue;
			}
			const top = hoisted.find((r) => m.roles.includes(r.id));
			(top ? groups.get(top.id) : online).push(m);
		}
		const byName = (a, b) => state.nameIn(gid, a.user).localeCompare(state.nameIn(gid, b.user));
		const out = [];
		let shown = 0;
		const section = (title, list) => {
			if (!list.length || shown >= maxShown) return;
			list.sort(byName);
			out.push(h('h3', { class: 'mgroup' }, `${title} — ${list.length}`));
			const ul = h('ul', { role: 'list' });
			for (const m of list.slice(0, maxShown - shown)) ul.append(h('li', {}, this.row(gid, m.user)));
			shown += list.length;
			out.push(ul);
		};
		for (const r of hoisted) section(r.name, groups.get(r.id));
		section('Online', online);
		section('Offline', offline);
		if (g.members.size > maxShown) out.push(h('p', { class: 'more' }, `${g.members.size - maxShown} more members are not listed.`));
		clear(this.el, out);
	}

	drawGroup(c) {
		const people = (c.recipients || []).concat([state.me.user]);
		clear(this.el, h('h3', { class: 'mgroup' }, `Members — ${people.length}`),
			h('ul', { role: 'list' }, people.map((u) => h('li', {}, this.row(null, u)))));
	}

	row(gid, u) {
		const st = state.presences.get(u.id) || 'offline';
		const name = state.nameIn(gid, u);
		const color = gid ? state.colorOf(gid, u.id) : '';
		const label = h('span', { class: 'mname' }, name);
		if (color) label.style.color = color;
		return h('button', { class: 'member ' + st, 'data-user': u.id, 'aria-label': `${name}, ${st}` }, avatar(u, 32, st), label, u.bot ? h('span', { class: 'tag' }, 'BOT') : null);
	}
}

// profile shows a user's popout next to anchor.
export async function profile(app, userID, anchor) {
	const gid = app.guildID !== '@me' ? app.guildID : null;
	let u = state.users.get(userID);
	if (!u) {
		try {
			u = state.addUser(await api.get('/users/' + userID));
		} catch {
			return;
		}
	}
	const g = gid && state.guilds.get(gid);
	const m = g && g.members.get(userID);
	const st = state.presences.get(userID) || 'offline';
	const banner = h('div', { class: 'pbanner' });
	const color = gid ? state.colorOf(gid, userID) : '';
	if (color) banner.style.backgroundColor = color;
	const card = h('div', { class: 'profile', role: 'dialog', 'aria-label': 'Profile of ' + displayName(u), tabindex: '-1' },
		banner, h('div', { class: 'pav' }, avatar(u, 80, st)),
		h('div', { class: 'pbody' },
			h('h3', {}, m && m.nick ? m.nick : displayName(u)),
			h('div', { class: 'handle' }, u.username, u.bot ? h('span', { class: 'tag' }, 'BOT') : null),
			u.bio ? h('p', { class: 'bio' }, u.bio) : null,
			h('h4', {}, 'Member since'), h('p', {}, fmtDay(idTime(u.id))),
			m ? roles(g, m) : null,
			actions(app, g, u)));
	modal.popup(card, anchor);
	card.focus();
}

function roles(g, m) {
	const list = state.sortedRoles(g).filter((r) => m.roles.includes(r.id));
	if (!list.length) return null;
	return h('div', {}, h('h4', {}, 'Roles'), h('ul', { class: 'rolechips' }, list.map((r) => {
		const dot = h('span', { class: 'rdot' });
		dot.style.backgroundColor = r.color ? '#' + r.color.toString(16).padStart(6, '0') : '#99aab5';
		return h('li', {}, dot, r.name);
	})));
}

function actions(app, g, u) {
	const my = state.me.user.id;
	const box = h('div', { class: 'pactions' });
	if (u.id !== my && !u.bot) box.append(h('button', { class: 'primary', onclick: () => { modal.closeMenu(); app.openDM(u.id); } }, 'Message'));
	const here = state.channels.get(app.channelID);
	if (g && here && here.guild_id === g.id && commands.apps(here.id, 2).length) {
		const b = h('button', { class: 'plain', 'aria-haspopup': 'menu' }, 'Apps');
		b.addEventListener('click', () => commands.appsMenu(b, here.id, 2, u.id));
		box.append(b);
	}
	if (!g || u.id === my) return box;
	const over = highest(g, my) > highest(g, u.id) && g.owner_id !== u.id;
	const mod = [];
	if (canGuild(g.id, P.MANAGE_ROLES)) mod.push(['Roles…', () => app.memberRoles(g.id, u.id)]);
	if (over && canGuild(g.id, P.MODERATE_MEMBERS)) mod.push(['Time out…', () => app.timeout(g.id, u.id)]);
	if (over && canGuild(g.id, P.KICK_MEMBERS)) mod.push(['Kick…', () => app.kick(g.id, u.id), true]);
	if (over && canGuild(g.id, P.BAN_MEMBERS)) mod.push(['Ban…', () => app.ban(g.id, u.id), true]);
	const v = state.voice.get(u.id);
	if (v && v.guild_id === g.id && v.channel_id) {
		if (canGuild(g.id, P.MUTE_MEMBERS)) mod.push([v.mute ? 'Server unmute' : 'Server mute', () => app.moderateVoice(g.id, u.id, { mute: !v.mute })]);
		if (canGuild(g.id, P.DEAFEN_MEMBERS)) mod.push([v.deaf ? 'Server undeafen' : 'Server deafen', () => app.moderateVoice(g.id, u.id, { deaf: !v.deaf })]);
		if (canGuild(g.id, P.MOVE_MEMBERS)) {
			mod.push(['Move to…', () => app.moveVoice(g.id, u.id)]);
			mod.push(['Disconnect from voice', () => app.moderateVoice(g.id, u.id, { channel_id: null }), true]);
		}
	}
	if (mod.length) {
		const more = h('button', { class: 'plain', 'aria-haspopup': 'menu' }, 'Moderate');
		more.addEventListener('click', () => modal.menu(more, mod));
		box.append(more);
	}
	return box;
}
