// The person's own settings: profile and avatar, status and custom status,
// sessions, voice devices, theme and notifications, and logging out. Status, custom
// status and theme are Discord's user settings on the node, so they follow
// the person to every device.

import * as api from './api.js';
import { avatar, clear, fmtStamp, h, toast } from './dom.js';
import { dataURI } from './guildsettings.js';
import * as modal from './modal.js';
import * as notify from './notify.js';
import * as state from './state.js';
import * as voice from './voice.js';

let current = { status: 'online', theme: '', custom_status: null };

// loaded fetches the settings after READY and applies them.
export async function loaded(app) {
	try {
		current = await api.get('/users/@me/settings');
	} catch {
		return;
	}
	theme(current.theme);
	app.gateway.setPresence(current.status || 'online');
	state.presences.set(state.me.user.id, current.status || 'online');
	app.drawUser();
}

export function status() { return current.status || 'online'; }

export function customText() {
	const c = current.custom_status;
	if (!c || !c.text || (c.expires_at && Date.parse(c.expires_at) < Date.now())) return '';
	return c.text;
}

// theme applies 'dark', 'light', or the system's choice for ''.
export function theme(t) {
	if (t === 'light' || t === 'dark') document.documentElement.dataset.theme = t;
	else delete document.documentElement.dataset.theme;
	localStorage.setItem('concord.theme', t || '');
}

async function save(app, patch) {
	try {
		current = await api.patch('/users/@me/settings', patch);
	} catch (x) {
		toast(x.text || String(x), 'error');
		return;
	}
	if (patch.status) {
		app.gateway.setPresence(patch.status);
		state.presences.set(state.me.user.id, patch.status);
	}
	app.drawUser();
}

const statuses = [['online', 'Online'], ['idle', 'Idle'], ['dnd', 'Do Not Disturb'], ['invisible', 'Invisible']];

export function statusMenu(app, anchor) {
	modal.menu(anchor, statuses.map(([s, label]) => [label, () => save(app, { status: s })]).concat([null,
		['Set a custom status', () => customStatus(app)]]));
}

async function customStatus(app) {
	await modal.form('Set a custom status', [
		{ name: 'text', label: 'What’s up?', value: customText() },
		{ name: 'clear', label: 'Clear after', value: '0', options: [['0', 'Don’t clear'], ['1800', '30 minutes'], ['3600', '1 hour'], ['14400', '4 hours'], ['86400', 'Today']] },
	], (v) => {
		const text = v.text.trim();
		const s = Number(v.clear);
		return save(app, { custom_status: text ? { text, expires_at: s ? new Date(Date.now() + s * 1000).toISOString() : null } : null });
	});
}

// open shows the settings dialog.
export function open(app) {
	const content = h('div', { class: 'tabcontent', role: 'tabpanel' });
	const tabs = [['My account', account], ['Sessions', sessions], ['Voice', voiceSettings], ['Appearance', appearance], ['Notifications', notifications]];
	const nav = h('div', { class: 'tabs', role: 'tablist', 'aria-orientation': 'vertical' });
	const d = modal.open('User settings', h('div', { class: 'settings' }, nav, content), { class: 'wide' });
	const show = async (i) => {
		for (const [j, b] of [...nav.children].entries()) b.setAttribute('aria-selected', i === j ? 'true' : 'false');
		clear(content, await tabs[i][1](app));
	};
	tabs.forEach(([name], i) => nav.append(h('button', { role: 'tab', onclick: () => show(i) }, name)));
	nav.append(h('button', { class: 'danger', onclick: async () => {
		d.close();
		if (await modal.confirm('Log out', 'Are you sure you want to log out?', 'Log out')) app.onSignOut();
	} }, 'Log out'));
	show(0);
}

function account() {
	const u = state.me.user;
	const file = h('input', { id: 'us-avatar', type: 'file', accept: 'image/png,image/jpeg,image/gif,image/webp' });
	const gname = h('input', { id: 'us-gname', value: u.global_name || '', maxLength: 32, placeholder: u.username });
	const uname = h('input', { id: 'us-uname', value: u.username, maxLength: 32 });
	const bio = h('textarea', { id: 'us-bio', value: u.bio || '', maxLength: 190, rows: 3 });
	const pw = h('input', { id: 'us-pw', type: 'password', autocomplete: 'current-password' });
	const err = h('div', { class: 'ferr', role: 'alert' });
	const pic = h('div', { class: 'bigav' }, avatar(u, 80));
	const f = h('form', { class: 'form' }, pic,
		h('div', { class: 'field' }, h('label', { for: 'us-avatar' }, 'Avatar'), file),
		h('div', { class: 'field' }, h('label', { for: 'us-gname' }, 'Display name'), gname),
		h('div', { class: 'field' }, h('label', { for: 'us-uname' }, 'Username'), uname),
		h('div', { class: 'field' }, h('label', { for: 'us-pw' }, 'Current password (to change your username)'), pw),
		h('div', { class: 'field' }, h('label', { for: 'us-bio' }, 'About me'), bio),
		err, h('div', {}, h('button', { type: 'button', class: 'plain', onclick: () => {
			api.patch('/users/@me', { avatar: null }).then((me) => { state.apply('USER_UPDATE', me); clear(pic, avatar(state.me.user, 80)); }, (x) => { err.textContent = x.text; });
		} }, 'Remove avatar'), ' ', h('button', { type: 'submit', class: 'primary' }, 'Save changes')));
	f.addEventListener('submit', async (e) => {
		e.preventDefault();
		err.textContent = '';
		const body = { global_name: gname.value.trim() || null, bio: bio.value };
		if (uname.value.trim() !== u.username) {
			body.username = uname.value.trim();
			body.password = pw.value;
		}
		if (file.files[0]) body.avatar = await dataURI(file.files[0]);
		try {
			state.apply('USER_UPDATE', await api.patch('/users/@me', body));
			clear(pic, avatar(state.me.user, 80));
			toast('Saved');
		} catch (x) {
			err.textContent = x.text;
		}
	});
	return f;
}

async function sessions() {
	const list = await api.get('/auth/sessions');
	return h('ul', { class: 'sessions' }, list.map((s) => h('li', {},
		h('div', {}, h('strong', { title: s.user_agent || '' }, device(s.user_agent)), s.current ? h('span', { class: 'tag' }, 'This device') : null),
		h('div', { class: 'sub' }, `${s.ip || ''} · signed in ${fmtStamp(new Date(s.created_at))} · last used ${fmtStamp(new Date(s.last_used_at))}`),
		s.current ? null : h('button', { class: 'danger small', onclick: (e) => {
			api.del('/auth/sessions/' + s.id).then(() => e.target.closest('li').remove(), (x) => toast(x.text, 'error'));
		} }, 'Log out'))));
}

// device names a session's browser and system from its user agent.
function device(ua) {
	if (!ua) return 'Unknown device';
	const browser = [['Edg/', 'Edge'], ['OPR/', 'Opera'], ['Firefox/', 'Firefox'], ['Chrome/', 'Chrome'], ['Safari/', 'Safari']].find(([k]) => ua.includes(k));
	const os = [['Android', 'Android'], ['iPhone', 'iOS'], ['iPad', 'iOS'], ['Windows', 'Windows'], ['Mac OS', 'macOS'], ['Linux', 'Linux']].find(([k]) => ua.includes(k));
	if (!browser && !os) return ua.slice(0, 60);
	return (browser ? browser[1] : 'A client') + (os ? ' on ' + os[1] : '');
}

function appearance(app) {
	const t = current.theme || '';
	const box = h('fieldset', { class: 'themes' }, h('legend', {}, 'Theme'));
	for (const [v, label] of [['dark', 'Dark'], ['light', 'Light'], ['', 'Sync with computer']]) {
		const r = h('input', { type: 'radio', name: 'theme', id: 'th-' + (v || 'sys'), value: v, checked: v === t });
		r.addEventListener('change', () => {
			theme(v);
			if (v) save(app, { theme: v });
		});
		box.append(h('div', { class: 'field check' }, h('label', { for: 'th-' + (v || 'sys') }, label), r));
	}
	return box;
}

async function voiceSettings() {
	return h('div', { class: 'form' }, await voice.devices());
}

function notifications() {
	const on = h('input', { type: 'checkbox', id: 'nt-on', checked: notify.enabled() });
	on.addEventListener('change', async () => {
		on.checked = await notify.enable(on.checked);
	});
	return h('div', {}, h('div', { class: 'field check' }, h('label', { for: 'nt-on' }, 'Desktop notifications for mentions and direct messages'), on),
		notify.supported() ? null : h('p', { class: 'note' }, 'This browser does not support notifications.'));
}
