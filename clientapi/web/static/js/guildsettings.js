// The server and channel settings dialogs: overview, roles with the
// permission editor, invites, bans and the audit log for a guild; name,
// topic, slowmode and permission overwrites for a channel. Each tab shows
// only what the person may change; the node decides in the end.

import * as api from './api.js';
import { clear, fmtStamp, h, idTime, toast } from './dom.js';
import * as modal from './modal.js';
import { P, canGuild, groups, highest } from './perms.js';
import * as state from './state.js';

// tabs draws a dialog with a tab list on the side.
function tabs(title, list) {
	const content = h('div', { class: 'tabcontent', role: 'tabpanel' });
	const nav = h('div', { class: 'tabs', role: 'tablist', 'aria-orientation': 'vertical' });
	const d = modal.open(title, h('div', { class: 'settings' }, nav, content), { class: 'wide' });
	const show = async (i) => {
		for (const [j, b] of [...nav.children].entries()) {
			b.setAttribute('aria-selected', i === j ? 'true' : 'false');
			b.tabIndex = i === j ? 0 : -1;
		}
		clear(content, h('p', { class: 'loading' }, 'Loading…'));
		try {
			clear(content, await list[i][1]());
		} catch (x) {
			clear(content, h('p', { class: 'ferr' }, x.text || String(x)));
		}
	};
	list.forEach(([name], i) => nav.append(h('button', { role: 'tab', onclick: () => show(i) }, name)));
	nav.addEventListener('keydown', (e) => {
		const b = [...nav.children];
		const i = b.indexOf(document.activeElement);
		const n = e.key === 'ArrowDown' ? b[(i + 1) % b.length] : e.key === 'ArrowUp' ? b[(i - 1 + b.length) % b.length] : null;
		if (n) {
			n.focus();
			n.click();
			e.preventDefault();
		}
	});
	show(0);
	return d;
}

function fail(x) { toast(x.text || String(x), 'error'); }

function hex(color) { return '#' + (color || 0).toString(16).padStart(6, '0'); }

export function guild(gid) {
	const g = state.guilds.get(gid);
	const list = [];
	if (canGuild(gid, P.MANAGE_GUILD)) list.push(['Overview', () => overview(g)]);
	if (canGuild(gid, P.MANAGE_ROLES)) list.push(['Roles', () => roles(g)]);
	if (canGuild(gid, P.MANAGE_GUILD)) list.push(['Invites', () => invites(g)]);
	if (canGuild(gid, P.BAN_MEMBERS)) list.push(['Bans', () => bans(g)]);
	if (canGuild(gid, P.VIEW_AUDIT_LOG)) list.push(['Audit log', () => audit(g)]);
	if (g.owner_id === state.me.user.id) list.push(['Delete server', () => deletion('server', g.name, '/guilds/' + g.id, 'Deleting the server removes it for every member.')]);
	if (list.length) tabs(g.name + ' – settings', list);
}

function overview(g) {
	const name = h('input', { id: 'gs-name', value: g.name, maxLength: 100 });
	const icon = h('input', { id: 'gs-icon', type: 'file', accept: 'image/png,image/jpeg,image/gif,image/webp' });
	const f = h('form', { class: 'form' },
		h('div', { class: 'field' }, h('label', { for: 'gs-name' }, 'Server name'), name),
		h('div', { class: 'field' }, h('label', { for: 'gs-icon' }, 'Server icon'), icon),
		h('button', { class: 'primary', type: 'submit' }, 'Save changes'));
	f.addEventListener('submit', async (e) => {
		e.preventDefault();
		const body = { name: name.value.trim() };
		if (icon.files[0]) body.icon = await dataURI(icon.files[0]);
		api.patch('/guilds/' + g.id, body).then(() => toast('Saved'), fail);
	});
	return f;
}

// dataURI reads a file as the data URI Discord's image fields take.
export function dataURI(file) {
	return new Promise((ok, no) => {
		const r = new FileReader();
		r.onload = () => ok(r.result);
		r.onerror = () => no(r.error);
		r.readAsDataURL(file);
	});
}

function roles(g) {
	const my = highest(g, state.me.user.id);
	const list = h('ul', { class: 'rolelist', role: 'listbox', 'aria-label': 'Roles' });
	const editor = h('div', { class: 'roleedit' });
	const box = h('div', { class: 'roles' }, h('div', {}, h('button', { class: 'primary', onclick: add }, 'Create role'), list), editor);
	let current = null;
	function draw() {
		clear(list);
		for (const r of state.sortedRoles(g)) {
			const dot = h('span', { class: 'rdot' });
			dot.style.backgroundColor = r.color ? hex(r.color) : '#99aab5';
			list.append(h('li', {}, h('button', { role: 'option', 'aria-selected': current === r.id ? 'true' : 'false', onclick: () => edit(r.id) }, dot, r.id === g.id ? '@everyone' : r.name)));
		}
	}
	function edit(id) {
		current = id;
		draw();
		const r = g.roles.get(id);
		const everyone = id === g.id;
		const locked = !everyone && r.position >= my;
		const name = h('input', { id: 're-name', value: r.name, disabled: everyone || locked });
		const color = h('input', { id: 're-color', type: 'color', value: r.color ? hex(r.color) : '#99aab5', disabled: everyone || locked });
		const hoist = h('input', { id: 're-hoist', type: 'checkbox', checked: r.hoist, disabled: everyone || locked });
		const ment = h('input', { id: 're-ment', type: 'checkbox', checked: r.mentionable, disabled: everyone || locked });
		const bits = BigInt(r.permissions);
		const checks = [];
		const permBox = h('div', { class: 'perms' });
		for (const [group, items] of groups) {
			permBox.append(h('h4', {}, group));
			for (const [key, label] of items) {
				const c = h('input', { type: 'checkbox', id: 'rp-' + key, checked: (bits & P[key]) !== 0n, disabled: locked });
				checks.push([key, c]);
				permBox.append(h('div', { class: 'field check' }, h('label', { for: 'rp-' + key }, label), c));
			}
		}
		const save = h('button', { class: 'primary', disabled: locked }, 'Save changes');
		save.addEventListener('click', () => {
			let p = 0n;
			for (const [key, c] of checks) if (c.checked) p |= P[key];
			const body = { permissions: p.toString() };
			if (!everyone) Object.assign(body, { name: name.value, color: parseInt(color.value.slice(1), 16), hoist: hoist.checked, mentionable: ment.checked });
			api.patch(`/guilds/${g.id}/roles/${id}`, body).then(() => {
				toast('Role saved');
				draw();
			}, fail);
		});
		const del = everyone || locked ? null : h('button', { class: 'danger', onclick: async () => {
			if (!(await modal.confirm('Delete role', `Delete the role ${r.name}?`, 'Delete'))) return;
			api.del(`/guilds/${g.id}/roles/${id}`).then(() => {
				current = null;
				draw();
				clear(editor);
			}, fail);
		} }, 'Delete role');
		clear(editor, h('h3', {}, everyone ? '@everyone' : r.name),
			locked ? h('p', { class: 'note' }, 'This role is at or above your highest role.') : null,
			everyone ? h('p', { class: 'note' }, 'These permissions apply to every member.') : [
				h('div', { class: 'field' }, h('label', { for: 're-name' }, 'Role name'), name),
				h('div', { class: 'field' }, h('label', { for: 're-color' }, 'Colour'), color),
				h('div', { class: 'field check' }, h('label', { for: 're-hoist' }, 'Show members separately'), hoist),
				h('div', { class: 'field check' }, h('label', { for: 're-ment' }, 'Allow anyone to @mention this role'), ment)],
			permBox, h('div', { class: 'mfoot' }, del, save));
	}
	async function add() {
		try {
			const r = await api.post(`/guilds/${g.id}/roles`, { name: 'new role' });
			g.roles.set(r.id, r);
			edit(r.id);
		} catch (x) {
			fail(x);
		}
	}
	draw();
	return box;
}

async function invites(g) {
	const list = await api.get(`/guilds/${g.id}/invites`);
	if (!list.length) return h('p', {}, 'No invites yet. Create one from the server menu.');
	const rows = list.map((inv) => h('tr', {},
		h('td', {}, inv.inviter ? inv.inviter.username : ''),
		h('td', {}, inv.code),
		h('td', {}, inv.channel ? '#' + inv.channel.name : ''),
		h('td', {}, String(inv.uses) + (inv.max_uses ? ' / ' + inv.max_uses : '')),
		h('td', {}, inv.expires_at ? fmtStamp(new Date(inv.expires_at)) : 'never'),
		h('td', {}, h('button', { class: 'danger small', onclick: (e) => {
			api.del('/invites/' + inv.code).then(() => e.target.closest('tr').remove(), fail);
		} }, 'Revoke'))));
	return h('table', { class: 'grid' }, h('thead', {}, h('tr', {}, ['Inviter', 'Code', 'Channel', 'Uses', 'Expires', ''].map((t) => h('th', {}, t)))), h('tbody', {}, rows));
}

async function bans(g) {
	const list = await api.get(`/guilds/${g.id}/bans`);
	if (!list.length) return h('p', {}, 'Nobody is banned.');
	return h('ul', { class: 'banlist' }, list.map((b) => h('li', {}, h('strong', {}, b.user.username), b.reason ? h('span', { class: 'sub' }, b.reason) : null,
		h('button', { class: 'plain small', onclick: (e) => api.del(`/guilds/${g.id}/bans/${b.user.id}`).then(() => e.target.closest('li').remove(), fail) }, 'Revoke ban'))));
}

// Audit log action types as people read them.
const actions = {
	1: 'updated the server', 10: 'created a channel', 11: 'updated a channel', 12: 'deleted a channel',
	13: 'changed channel permissions', 15: 'removed channel permissions', 20: 'kicked a member', 22: 'banned a member',
	23: 'lifted a ban', 24: 'updated a member', 28: 'added a bot', 30: 'created a role', 31: 'updated a role',
	32: 'deleted a role', 40: 'created an invite', 42: 'revoked an invite', 60: 'added an emoji', 62: 'deleted an emoji',
};

async function audit(g) {
	const log = await api.get(`/guilds/${g.id}/audit-logs?limit=100`);
	for (const u of log.users || []) state.addUser(u);
	if (!log.audit_log_entries.length) return h('p', {}, 'Nothing has happened yet.');
	const name = (id) => {
		const u = state.users.get(id);
		return u ? state.nameIn(g.id, u) : id;
	};
	const target = (e) => {
		if (!e.target_id) return '';
		const c = state.channels.get(e.target_id);
		if (c) return ' #' + c.name;
		const r = g.roles.get(e.target_id);
		if (r) return ' @' + r.name;
		return state.users.has(e.target_id) ? ' ' + name(e.target_id) : '';
	};
	return h('ul', { class: 'auditlog' }, log.audit_log_entries.map((e) => h('li', {},
		h('strong', {}, name(e.user_id)), ' ' + (actions[e.action_type] || 'did action ' + e.action_type) + target(e),
		e.reason ? h('span', { class: 'sub' }, ' — ' + e.reason) : null,
		h('time', {}, fmtStamp(idTime(e.id))))));
}

// deletion is a tab that deletes a guild or channel (what) after asking.
function deletion(what, name, path, why) {
	const b = h('button', { class: 'danger' }, 'Delete ' + name);
	b.addEventListener('click', async () => {
		if (await modal.confirm('Delete ' + what, `Delete ${name}? This cannot be undone.`, 'Delete ' + what)) {
			api.del(path).then(() => document.querySelector('dialog.modal').close(), fail);
		}
	});
	return h('div', {}, h('p', {}, why), b);
}

export function channel(cid) {
	const c = state.channels.get(cid);
	tabs((c.type === 4 ? '' : '#') + c.name + ' – settings', [
		['Overview', () => channelOverview(c)],
		['Permissions', () => overwrites(c)],
		['Delete', () => deletion('channel', c.name, '/channels/' + c.id, 'Deleting a channel removes its messages for everyone.')],
	]);
}

function channelOverview(c) {
	const name = h('input', { id: 'cs-name', value: c.name, maxLength: 100 });
	const topic = h('textarea', { id: 'cs-topic', value: c.topic || '', maxLength: 1024, rows: 3 });
	const slow = h('select', { id: 'cs-slow' }, [[0, 'Off'], [5, '5s'], [10, '10s'], [30, '30s'], [60, '1m'], [300, '5m'], [3600, '1h']]
		.map(([v, l]) => h('option', { value: v, selected: v === c.rate_limit_per_user }, l)));
	const f = h('form', { class: 'form' }, h('div', { class: 'field' }, h('label', { for: 'cs-name' }, 'Name'), name),
		c.type === 0 ? [h('div', { class: 'field' }, h('label', { for: 'cs-topic' }, 'Topic'), topic),
			h('div', { class: 'field' }, h('label', { for: 'cs-slow' }, 'Slowmode'), slow)] : null,
		h('button', { class: 'primary', type: 'submit' }, 'Save changes'));
	f.addEventListener('submit', (e) => {
		e.preventDefault();
		const body = { name: name.value.trim() };
		if (c.type === 0) Object.assign(body, { topic: topic.value, rate_limit_per_user: Number(slow.value) });
		api.patch('/channels/' + c.id, body).then(() => toast('Saved'), fail);
	});
	return f;
}

// overwrites edits a channel's permission overwrites: pick a role or
// member, then allow, deny or inherit each permission.
function overwrites(c) {
	const g = state.guilds.get(c.guild_id);
	const targets = h('ul', { class: 'rolelist' });
	const editor = h('div', { class: 'roleedit' });
	const pick = h('select', { 'aria-label': 'Add a role or member' });
	const draw = () => {
		clear(targets);
		const ow = c.permission_overwrites || [];
		for (const o of ow) {
			const label = o.type === 0 ? (o.id === g.id ? '@everyone' : '@' + ((g.roles.get(o.id) || {}).name || 'deleted role')) : state.nameIn(g.id, state.users.get(o.id) || { id: o.id });
			targets.append(h('li', {}, h('button', { onclick: () => edit(o.id, o.type) }, label)));
		}
		clear(pick, h('option', { value: '' }, 'Add a role or member…'),
			state.sortedRoles(g).filter((r) => !ow.some((o) => o.id === r.id)).map((r) => h('option', { value: '0:' + r.id }, r.id === g.id ? '@everyone' : '@' + r.name)),
			[...g.members.values()].filter((m) => m.user && !ow.some((o) => o.id === m.user.id)).slice(0, 200).map((m) => h('option', { value: '1:' + m.user.id }, state.nameIn(g.id, m.user))));
	};
	pick.addEventListener('change', () => {
		const [type, id] = pick.value.split(':');
		if (id) edit(id, Number(type));
	});
	const edit = (id, type) => {
		const o = (c.permission_overwrites || []).find((x) => x.id === id) || { id, type, allow: '0', deny: '0' };
		const allow = BigInt(o.allow);
		const deny = BigInt(o.deny);
		const rows = [];
		const list = h('div', { class: 'perms' });
		for (const [group, items] of groups) {
			if (group === 'Advanced') continue;
			list.append(h('h4', {}, group));
			for (const [key, label] of items) {
				if (key === 'MANAGE_GUILD' || key === 'KICK_MEMBERS' || key === 'BAN_MEMBERS' || key === 'VIEW_AUDIT_LOG' || key === 'CHANGE_NICKNAME' || key === 'MANAGE_NICKNAMES' || key === 'MODERATE_MEMBERS') continue;
				const v = allow & P[key] ? 'allow' : deny & P[key] ? 'deny' : 'inherit';
				const sel = h('select', { 'aria-label': label }, [['deny', '✕ Deny'], ['inherit', '/ Inherit'], ['allow', '✓ Allow']].map(([x, l]) => h('option', { value: x, selected: x === v }, l)));
				rows.push([key, sel]);
				list.append(h('div', { class: 'field tri' }, h('span', {}, label), sel));
			}
		}
		const save = h('button', { class: 'primary', onclick: () => {
			let a = 0n;
			let d = 0n;
			for (const [key, sel] of rows) {
				if (sel.value === 'allow') a |= P[key];
				if (sel.value === 'deny') d |= P[key];
			}
			api.put(`/channels/${c.id}/permissions/${id}`, { type, allow: a.toString(), deny: d.toString() }).then(() => { toast('Saved'); setTimeout(draw, 300); }, fail);
		} }, 'Save changes');
		const del = h('button', { class: 'danger', onclick: () => api.del(`/channels/${c.id}/permissions/${id}`).then(() => { clear(editor); setTimeout(draw, 300); }, fail) }, 'Remove');
		clear(editor, list, h('div', { class: 'mfoot' }, del, save));
	};
	draw();
	return h('div', { class: 'roles' }, h('div', {}, pick, targets), editor);
}
