// The guild rail: home (DMs and friends), one button per guild with its
// unread pill and mention badge, and the button that creates or joins a
// guild.

import { acronym, clear, h, icon, icons } from './dom.js';
import * as state from './state.js';
import * as unread from './unread.js';

export class Rail {
	constructor(app) {
		this.app = app;
		this.el = h('nav', { class: 'rail', 'aria-label': 'Servers' });
		this.el.addEventListener('keydown', (e) => {
			if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
			const b = [...this.el.querySelectorAll('.gbtn')];
			const i = b.indexOf(document.activeElement);
			const n = b[(i + (e.key === 'ArrowDown' ? 1 : b.length - 1)) % b.length];
			if (n) n.focus();
			e.preventDefault();
		});
		for (const t of ['guilds', 'guild', 'unread', 'dms']) state.on(t, () => this.draw());
	}

	draw() {
		const cur = this.app.guildID;
		let dmMentions = 0;
		for (const id of state.dms.keys()) dmMentions += unread.mentionCount(id) + (unread.unread(id) ? 1 : 0);
		const home = this.button('@me', 'Direct Messages', h('span', { class: 'home' }, icon(icons.home, 26)), cur === '@me', false, dmMentions);
		const items = [home, h('div', { class: 'railsep', role: 'separator' })];
		for (const g of state.guilds.values()) {
			if (g.unavailable) continue;
			const u = unread.guildUnread(g);
			const face = g.icon
				? h('img', { src: `/icons/${g.id}/${g.icon}.png`, alt: '' })
				: h('span', { class: 'acr' }, acronym(g.name));
			items.push(this.button(g.id, g.name, face, cur === g.id, u.unread, u.mentions));
		}
		items.push(h('button', { class: 'gbtn add', 'aria-label': 'Add a server', title: 'Add a server', onclick: () => this.app.addGuild() }, icon(icons.plus, 24)));
		clear(this.el, h('ul', { role: 'list' }, items.map((b) => h('li', {}, b))));
	}

	button(id, name, face, active, hasUnread, mentions) {
		let label = name;
		if (mentions) label += `, ${mentions} mention${mentions > 1 ? 's' : ''}`;
		else if (hasUnread) label += ', unread';
		const b = h('button', {
			class: 'gbtn' + (active ? ' active' : '') + (hasUnread ? ' unread' : ''),
			title: name,
			'aria-label': label,
			'aria-current': active ? 'page' : null,
			'data-guild': id,
			onclick: () => this.app.openGuild(id),
		}, h('span', { class: 'pill', 'aria-hidden': 'true' }), face);
		if (mentions) b.append(h('span', { class: 'badge', 'aria-hidden': 'true' }, mentions > 99 ? '99+' : String(mentions)));
		return b;
	}
}
