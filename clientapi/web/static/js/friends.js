// Home: friends (online, all, pending, blocked), adding a friend by
// username, and starting a group DM. Relationships are Discord's: 1
// friend, 2 blocked, 3 incoming request, 4 outgoing request.

import * as api from './api.js';
import { dmName } from './composer.js';
import { avatar, clear, displayName, h, patch, toast } from './dom.js';
import * as modal from './modal.js';
import * as state from './state.js';

export async function load() {
	try {
		const list = await api.get('/users/@me/relationships');
		for (const r of list) state.relationships.set(r.id, { ...r, user: state.addUser(r.user) });
		state.emit('relationships');
	} catch { /* the page still works without; the gateway adds changes */ }
}

let tab = 'online';

export function show(app, body) {
	const page = h('div', { class: 'friends' });
	clear(body, page);
	const draw = () => {
		if (!page.isConnected) {
			off();
			off2();
			return;
		}
		const tabs = [['online', 'Online'], ['all', 'All'], ['pending', 'Pending'], ['blocked', 'Blocked']];
		const bar = h('div', { class: 'ftabs', role: 'tablist' }, tabs.map(([id, label]) => h('button', {
			role: 'tab', 'aria-selected': tab === id ? 'true' : 'false', onclick: () => { tab = id; draw(); },
		}, label)), h('button', { class: 'primary small' + (tab === 'add' ? ' on' : ''), role: 'tab', onclick: () => { tab = 'add'; draw(); } }, 'Add friend'));
		// Patched, not rebuilt: a presence or relationship arriving between
		// a mousedown and its mouseup on a tab or a row would swallow the
		// click.
		patch(page, bar, tab === 'add' ? addForm() : list(app));
	};
	// The add form keeps what it says while requests come and go.
	const redraw = () => {
		if (tab !== 'add' || !page.isConnected) draw();
	};
	const off = state.on('relationships', redraw);
	const off2 = state.on('presence', redraw);
	draw();
}

function list(app) {
	const all = [...state.relationships.values()];
	const pick = {
		online: (r) => r.type === 1 && !['offline', 'invisible', undefined].includes(state.presences.get(r.id)),
		all: (r) => r.type === 1,
		pending: (r) => r.type === 3 || r.type === 4,
		blocked: (r) => r.type === 2,
	}[tab];
	const rows = all.filter(pick).sort((a, b) => displayName(a.user).localeCompare(displayName(b.user)));
	if (!rows.length) return h('p', { class: 'emptynote' }, { online: 'No one’s around to play with.', all: 'No friends yet. Add one by their username.', pending: 'There are no pending friend requests.', blocked: 'You haven’t blocked anyone.' }[tab]);
	return h('ul', { class: 'flist', 'aria-label': tab + ' friends' }, rows.map((r) => {
		const st = state.presences.get(r.id) || 'offline';
		const acts = [];
		const act = (label, fn, cls = 'plain') => acts.push(h('button', { class: cls + ' small', onclick: fn }, label));
		const rel = (m, b) => () => api.call(m, '/users/@me/relationships/' + r.id, b).catch((x) => toast(x.text, 'error'));
		if (r.type === 1) {
			act('Message', () => app.openDM(r.id), 'primary');
			act('Remove', rel('DELETE'));
			act('Block', rel('PUT', { type: 2 }), 'danger');
		} else if (r.type === 3) {
			act('Accept', rel('PUT', {}), 'primary');
			act('Ignore', rel('DELETE'));
		} else if (r.type === 4) act('Cancel', rel('DELETE'));
		else if (r.type === 2) act('Unblock', rel('DELETE'));
		const what = { 1: st, 2: 'Blocked', 3: 'Incoming friend request', 4: 'Outgoing friend request' }[r.type];
		return h('li', { 'data-user': r.id, 'data-type': String(r.type) }, avatar(r.user, 36, r.type === 1 ? st : null), h('div', { class: 'fwho' }, h('strong', {}, displayName(r.user)), h('span', { class: 'sub' }, r.user.username + ' · ' + what)), h('div', { class: 'facts' }, acts));
	}));
}

function addForm() {
	const input = h('input', { id: 'af-name', placeholder: 'You can add friends with their username, or name@node on another node.', autocomplete: 'off' });
	const msg = h('div', { class: 'ferr', role: 'status' });
	const f = h('form', { class: 'addfriend' }, h('h2', {}, 'Add friend'), h('label', { for: 'af-name' }, 'Username'),
		h('div', { class: 'row' }, input, h('button', { type: 'submit', class: 'primary' }, 'Send friend request')), msg);
	f.addEventListener('submit', async (e) => {
		e.preventDefault();
		const username = input.value.trim().toLowerCase();
		if (!username) return;
		try {
			await api.post('/users/@me/relationships', { username });
			msg.className = 'fok';
			msg.textContent = `Success! Your friend request to ${username} was sent.`;
			input.value = '';
		} catch (x) {
			msg.className = 'ferr';
			msg.textContent = x.code === 80004 ? 'Hm, didn’t work. Double check that the username is correct.' : x.text;
		}
	});
	setTimeout(() => input.focus());
	return f;
}

// newGroup picks friends for a group DM (or a DM with one).
export async function newGroup(app) {
	const friends = [...state.relationships.values()].filter((r) => r.type === 1);
	if (!friends.length) {
		toast('Add a friend first: group DMs are made from friends.');
		return;
	}
	const got = await modal.form('Select friends', friends.map((r) => ({ name: r.id, label: displayName(r.user), type: 'checkbox' })), async (v) => {
		const ids = Object.keys(v).filter((k) => v[k]);
		if (!ids.length) throw new Error('Pick at least one friend.');
		const body = ids.length === 1 ? { recipient_id: ids[0] } : { recipients: ids };
		const c = await api.post('/users/@me/channels', body);
		state.apply('CHANNEL_CREATE', c);
		return c;
	}, 'Create DM');
	if (got && got.id) app.openChannel(got.id);
}

// addToGroup picks friends to add to group DM c.
export async function addToGroup(c) {
	const inside = new Set((c.recipients || []).map((u) => u.id));
	const friends = [...state.relationships.values()].filter((r) => r.type === 1 && !inside.has(r.id));
	if (!friends.length) {
		toast('Every friend of yours is in this group already.');
		return;
	}
	await modal.form('Add friends to ' + dmName(c), friends.map((r) => ({ name: r.id, label: displayName(r.user), type: 'checkbox' })), async (v) => {
		const ids = Object.keys(v).filter((k) => v[k]);
		if (!ids.length) throw new Error('Pick at least one friend.');
		for (const id of ids) await api.put('/channels/' + c.id + '/recipients/' + id);
		return true;
	}, 'Add');
}
