// Finding things: message search in a guild (the node's
// /guilds/{id}/messages/search), a channel's pins, and the quick switcher
// (Ctrl+K) for channels and DMs.

import * as api from './api.js';
import { avatar, clear, fmtStamp, h, icon, icons, idTime } from './dom.js';
import { dmName } from './composer.js';
import * as md from './markdown.js';
import { resolver } from './message.js';
import * as modal from './modal.js';
import * as state from './state.js';

// box is the header's search field.
export function box(app) {
	const input = h('input', { type: 'search', class: 'search', placeholder: 'Search', 'aria-label': 'Search messages' });
	const f = h('form', { class: 'searchform', role: 'search' }, input, icon(icons.search, 16));
	f.addEventListener('submit', (e) => {
		e.preventDefault();
		if (input.value.trim()) results(app, input.value.trim(), input);
	});
	return f;
}

function hit(app, m, gid) {
	const c = state.channels.get(m.channel_id);
	const body = h('div', { class: 'text' }, md.render(m.content, resolver(gid)));
	return h('li', {}, h('button', { class: 'hit', onclick: () => { modal.closeMenu(); app.jump(m.channel_id, m.id); } },
		h('div', { class: 'hhead' }, avatar(m.author, 24), h('strong', {}, state.nameIn(gid, m.author)),
			c ? h('span', { class: 'sub' }, (c.guild_id ? '#' + c.name : dmName(c))) : null, h('time', {}, fmtStamp(idTime(m.id)))), body));
}

async function results(app, q, anchor) {
	const gid = app.guildID;
	const panel = h('div', { class: 'results', role: 'dialog', 'aria-label': 'Search results' }, h('p', { class: 'loading' }, 'Searching…'));
	modal.popup(panel, anchor);
	try {
		const r = await api.get(`/guilds/${gid}/messages/search${api.q({ content: q })}`);
		const list = r.messages.map((group) => group[0]);
		for (const m of list) state.addUser(m.author);
		clear(panel, h('h3', {}, `${r.total_results} result${r.total_results === 1 ? '' : 's'}`),
			h('ul', {}, list.map((m) => hit(app, m, gid))));
	} catch (x) {
		clear(panel, h('p', { class: 'ferr' }, x.text || String(x)));
	}
}

export async function pins(app, anchor) {
	const c = state.channels.get(app.channelID);
	const panel = h('div', { class: 'results', role: 'dialog', 'aria-label': 'Pinned messages' }, h('p', { class: 'loading' }, 'Loading…'));
	modal.popup(panel, anchor);
	try {
		const list = await api.get(`/channels/${c.id}/pins`);
		clear(panel, h('h3', {}, 'Pinned messages'), list.length ? h('ul', {}, list.map((m) => hit(app, m, c.guild_id)))
			: h('p', { class: 'emptynote' }, 'This channel doesn’t have any pinned messages… yet.'));
	} catch (x) {
		clear(panel, h('p', { class: 'ferr' }, x.text || String(x)));
	}
}

// switcher finds a channel or DM by name.
export function switcher(app) {
	const input = h('input', { type: 'search', placeholder: 'Where would you like to go?', 'aria-label': 'Find a channel or conversation' });
	const list = h('ul', { class: 'switch', role: 'listbox' });
	const d = modal.open('Quick switcher', h('div', { class: 'mbody' }, input, list));
	let items = [];
	let at = 0;
	const draw = () => {
		const q = input.value.trim().toLowerCase();
		items = [];
		for (const c of state.channels.values()) {
			if (c.type === 4 || c.type === 2) continue;
			const name = c.guild_id ? c.name : dmName(c);
			if (!name.toLowerCase().includes(q)) continue;
			const g = c.guild_id && state.guilds.get(c.guild_id);
			items.push([c.id, (c.guild_id ? '#' : '@') + name, g ? g.name : 'Direct message']);
			if (items.length >= 10) break;
		}
		at = Math.min(at, Math.max(0, items.length - 1));
		clear(list, items.map(([id, name, where], i) => h('li', { role: 'option', 'aria-selected': i === at ? 'true' : 'false', class: i === at ? 'on' : '',
			onclick: () => { d.close(); app.openChannel(id); } }, h('span', {}, name), h('span', { class: 'sub' }, where))));
	};
	input.addEventListener('input', () => { at = 0; draw(); });
	input.addEventListener('keydown', (e) => {
		if (e.key === 'ArrowDown') at = Math.min(items.length - 1, at + 1);
		else if (e.key === 'ArrowUp') at = Math.max(0, at - 1);
		else if (e.key === 'Enter' && items[at]) {
			d.close();
			app.openChannel(items[at][0]);
			return;
		} else return;
		e.preventDefault();
		draw();
	});
	draw();
	input.focus();
}
