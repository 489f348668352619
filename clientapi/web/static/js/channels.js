// The sidebar's channel list: a guild's channels under their categories
// (collapsible, remembered), unread and mention marks, who is in each voice
// channel, and the guild's menu. At home it lists DMs and group DMs.

import { avatar, clear, cmpID, h, icon, icons, patch } from './dom.js';
import * as modal from './modal.js';
import { P, can, canGuild } from './perms.js';
import * as state from './state.js';
import * as unread from './unread.js';
import { dmName } from './composer.js';
import * as voice from './voice.js';

const collapsedKey = 'concord.collapsed';
const collapsed = new Set(JSON.parse(localStorage.getItem(collapsedKey) || '[]'));

export class Channels {
	constructor(app) {
		this.app = app;
		this.head = h('header', { class: 'sidehead' });
		this.list = h('div', { class: 'chlist', role: 'tree', 'aria-label': 'Channels' });
		this.el = h('div', { class: 'channels' }, this.head, this.list);
		this.list.addEventListener('keydown', (e) => {
			if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
			const b = [...this.list.querySelectorAll('.chan, .cat')];
			const i = b.indexOf(document.activeElement);
			const n = b[Math.max(0, Math.min(b.length - 1, i + (e.key === 'ArrowDown' ? 1 : -1)))];
			if (n) n.focus();
			e.preventDefault();
		});
		for (const t of ['guild', 'unread', 'voice', 'dms', 'presence']) state.on(t, () => this.draw());
	}

	draw() {
		const gid = this.app.guildID;
		if (gid === '@me') this.drawHome();
		else if (state.guilds.has(gid)) this.drawGuild(state.guilds.get(gid));
	}

	drawGuild(g) {
		const items = [];
		if (canGuild(g.id, P.CREATE_INSTANT_INVITE)) items.push(['Invite people', () => this.app.invite(g.id)]);
		if (canGuild(g.id, P.MANAGE_GUILD) || canGuild(g.id, P.MANAGE_ROLES) || canGuild(g.id, P.VIEW_AUDIT_LOG) || canGuild(g.id, P.BAN_MEMBERS)) {
			items.push(['Server settings', () => this.app.guildSettings(g.id)]);
		}
		if (canGuild(g.id, P.MANAGE_CHANNELS)) {
			items.push(['Create channel', () => this.app.createChannel(g.id, null, 0)]);
			items.push(['Create category', () => this.app.createChannel(g.id, null, 4)]);
		}
		items.push(['Edit server profile', () => this.app.nickname(g.id)]);
		if (g.owner_id !== state.me.user.id) items.push(null, ['Leave server', () => this.app.leaveGuild(g.id), true]);
		const btn = h('button', { class: 'ghead', 'aria-haspopup': 'menu', 'aria-label': g.name + ', server menu' }, h('span', { class: 'gname' }, g.name), icon(icons.chevron, 18));
		btn.addEventListener('click', () => modal.menu(btn, items));
		clear(this.head, btn);

		const all = [...g.channels.values()].filter((c) => can(c.id, P.VIEW_CHANNEL) || c.type === 4);
		const byPos = (a, b) => a.position - b.position || cmpID(a.id, b.id);
		// Text-like channels before voice ones within a category, as Discord does.
		const order = (a, b) => (a.type === 2) - (b.type === 2) || byPos(a, b);
		const top = all.filter((c) => c.type !== 4 && !c.parent_id).sort(order);
		const cats = all.filter((c) => c.type === 4).sort(byPos);
		const out = top.map((c) => this.channel(c));
		for (const cat of cats) {
			const kids = all.filter((c) => c.parent_id === cat.id).sort(order);
			if (!kids.length && !canGuild(g.id, P.MANAGE_CHANNELS)) continue;
			const shut = collapsed.has(cat.id);
			const add = canGuild(g.id, P.MANAGE_CHANNELS)
				? h('button', { class: 'catadd', 'aria-label': 'Create channel in ' + cat.name, title: 'Create channel', onclick: () => this.app.createChannel(g.id, cat.id, 0) }, icon(icons.plus, 16))
				: null;
			out.push(h('div', { class: 'catrow' }, h('button', {
				class: 'cat' + (shut ? ' shut' : ''), role: 'treeitem', 'aria-expanded': shut ? 'false' : 'true', 'data-category': cat.id,
				onclick: () => {
					if (shut) collapsed.delete(cat.id);
					else collapsed.add(cat.id);
					localStorage.setItem(collapsedKey, JSON.stringify([...collapsed]));
					this.draw();
				},
			}, icon(icons.chevron, 12), h('span', {}, cat.name)), add));
			for (const c of kids) {
				// A collapsed category still shows its open and unread channels.
				if (!shut || c.id === this.app.channelID || unread.unread(c.id)) out.push(this.channel(c));
			}
		}
		patch(this.list, out);
	}

	channel(c) {
		const active = c.id === this.app.channelID;
		const isVoice = c.type === 2;
		const un = !isVoice && unread.unread(c.id);
		const n = unread.mentionCount(c.id);
		let label = (isVoice ? 'Voice channel ' : 'Channel ') + c.name;
		if (n) label += `, ${n} mention${n > 1 ? 's' : ''}`;
		else if (un) label += ', unread';
		const row = h('div', { class: 'chrow' });
		const b = h('button', {
			class: 'chan' + (active ? ' active' : '') + (un ? ' unread' : '') + (isVoice && voice.current() === c.id ? ' connected' : ''),
			role: 'treeitem',
			'aria-label': label,
			'aria-current': active ? 'page' : null,
			'data-channel': c.id,
			onclick: () => (isVoice ? this.app.openVoice(c.id) : this.app.openChannel(c.id)),
		}, icon(isVoice ? icons.speaker : icons.hash, 20), h('span', { class: 'cname' }, c.name));
		if (n) b.append(h('span', { class: 'badge' }, String(n)));
		row.append(b);
		if (canGuild(c.guild_id, P.MANAGE_CHANNELS)) {
			row.append(h('button', { class: 'chgear', 'aria-label': 'Edit channel ' + c.name, title: 'Edit channel', onclick: () => this.app.channelSettings(c.id) }, icon(icons.gear, 16)));
		}
		if (isVoice) {
			const inside = [...state.voice.values()].filter((v) => v.channel_id === c.id);
			if (inside.length) {
				row.append(h('ul', { class: 'voicers', 'aria-label': 'In ' + c.name }, inside.map((v) => {
					const u = state.users.get(v.user_id) || (v.member && v.member.user) || { id: v.user_id };
					return h('li', { class: voice.speaking(v.user_id) ? 'speaking' : '', 'data-user': v.user_id }, avatar(u, 22), h('span', { class: 'vname' }, state.nameIn(c.guild_id, u)),
						v.self_stream ? h('span', { class: 'live' }, 'LIVE') : null,
						v.self_video ? h('span', { class: 'vflag video', role: 'img', 'aria-label': 'Camera on', title: 'Camera on' }, icon(icons.camera, 14)) : null,
						v.self_mute || v.mute ? h('span', { class: 'vflag', role: 'img', 'aria-label': 'Muted', title: 'Muted' }, icon(icons.mic, 14)) : null,
						v.self_deaf || v.deaf ? h('span', { class: 'vflag', role: 'img', 'aria-label': 'Deafened', title: 'Deafened' }, icon(icons.headphones, 14)) : null);
				})));
			}
		}
		return row;
	}

	drawHome() {
		clear(this.head, h('button', { class: 'ghead', onclick: () => this.app.openFriends() }, h('span', { class: 'gname' }, 'Direct Messages')));
		const list = [...state.dms.values()].sort((a, b) => cmpID(b.last_message_id || b.id, a.last_message_id || a.id));
		const friends = h('button', { class: 'chan friends' + (!this.app.channelID ? ' active' : ''), role: 'treeitem', onclick: () => this.app.openFriends() },
			icon(icons.people, 20), h('span', { class: 'cname' }, 'Friends'));
		const rows = [friends, h('div', { class: 'cathead' }, h('span', {}, 'Direct messages'),
			h('button', { class: 'catadd', 'aria-label': 'Create a group DM', title: 'Create DM', onclick: () => this.app.newGroupDM() }, icon(icons.plus, 16)))];
		for (const c of list) {
			const other = c.type === 1 ? c.recipients[0] : null;
			const face = other ? avatar(other, 32, state.presences.get(other.id) || 'offline') : h('span', { class: 'avatar initial group' }, icon(icons.people, 18));
			const un = unread.unread(c.id);
			const n = unread.mentionCount(c.id);
			const b = h('button', {
				class: 'chan dm' + (c.id === this.app.channelID ? ' active' : '') + (un ? ' unread' : ''),
				role: 'treeitem',
				'data-channel': c.id,
				'aria-label': dmName(c) + (un ? ', unread' : ''),
				onclick: () => this.app.openChannel(c.id),
			}, face, h('span', { class: 'cname' }, dmName(c)));
			if (c.type === 3) b.append(h('span', { class: 'sub' }, `${(c.recipients || []).length + 1} members`));
			if (n) b.append(h('span', { class: 'badge' }, String(n)));
			rows.push(b);
		}
		patch(this.list, rows);
	}
}
