// Small helpers for building the page. User text only ever enters the page
// as text nodes (h's string children and el.textContent); nothing here
// parses HTML.

// h makes an element. props sets properties (class, text, on* handlers,
// aria-* and data-* attributes); children are nodes or strings, which
// become text nodes. Falsy children are skipped.
export function h(tag, props, ...children) {
	const el = document.createElement(tag);
	for (const [k, v] of Object.entries(props || {})) {
		if (v === undefined || v === null || v === false) continue;
		if (k === 'class') el.className = v;
		else if (k === 'text') el.textContent = v;
		else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
		else if (k.startsWith('aria-') || k.startsWith('data-') || k === 'role' || k === 'for' || k === 'tabindex') {
			el.setAttribute(k, v === true ? '' : String(v));
		} else el[k] = v;
	}
	append(el, children);
	return el;
}

function append(el, children) {
	for (const c of children) {
		if (c === null || c === undefined || c === false || c === '') continue;
		if (Array.isArray(c)) append(el, c);
		else el.append(c); // strings become text nodes
	}
}

// clear empties el and fills it with children.
export function clear(el, ...children) {
	el.replaceChildren();
	append(el, children);
	return el;
}

// patch puts nodes in el like clear, but leaves in place each child that
// is identical to the node that would replace it: a list redrawn by a
// dispatch (a presence, an unread count) between a user's mousedown and
// mouseup on one of its rows would otherwise swallow the click. A kept
// child keeps its handlers, made for the old data: each child must say in
// its attributes (data-channel, say) what its handlers act on.
export function patch(el, ...children) {
	const fresh = document.createElement('div');
	append(fresh, children);
	const next = [...fresh.childNodes];
	const old = [...el.childNodes];
	if (old.length !== next.length) {
		el.replaceChildren(...next);
		return el;
	}
	next.forEach((n, i) => {
		if (!old[i].isEqualNode(n)) old[i].replaceWith(n);
	});
	return el;
}

// snowflake order without losing precision: longer is larger, then by text.
export function cmpID(a, b) {
	if (a === b) return 0;
	if (a.length !== b.length) return a.length < b.length ? -1 : 1;
	return a < b ? -1 : 1;
}

const epoch = 1420070400000n;

// idTime is when a snowflake was minted.
export function idTime(id) {
	return new Date(Number((BigInt(id) >> 22n) + epoch));
}

// nonce makes a snowflake-shaped nonce for a message about to be sent.
export function nonce() {
	const ms = BigInt(Date.now()) - epoch;
	return ((ms << 22n) | BigInt(Math.floor(Math.random() * 4194304))).toString();
}

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
const dayFmt = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'long', day: 'numeric' });
const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'short' });

export function fmtTime(d) { return timeFmt.format(d); }
export function fmtDay(d) { return dayFmt.format(d); }
export function fmtFull(d) { return fullFmt.format(d); }

// fmtStamp says when, as Discord's headers do: today, yesterday or a date.
export function fmtStamp(d) {
	const now = new Date();
	const day = (x) => new Date(x.getFullYear(), x.getMonth(), x.getDate()).getTime();
	const diff = (day(now) - day(d)) / 86400000;
	if (diff === 0) return 'Today at ' + fmtTime(d);
	if (diff === 1) return 'Yesterday at ' + fmtTime(d);
	return dayFmt.format(d) + ' ' + fmtTime(d);
}

export function sameDay(a, b) {
	return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

// avatarURL is a user's avatar on the node's CDN path, or null.
export function avatarURL(user) {
	if (!user || !user.avatar) return null;
	const ext = user.avatar.startsWith('a_') ? 'gif' : 'png';
	return `/avatars/${user.id}/${user.avatar}.${ext}`;
}

// Colours for users without an avatar, picked by ID so a person keeps theirs.
const swatches = ['#5865f2', '#3ba55c', '#faa61a', '#ed4245', '#eb459e', '#9b59b6', '#1abc9c', '#e67e22'];

function swatch(id) {
	let n = 0;
	for (const ch of String(id)) n = (n * 31 + ch.charCodeAt(0)) >>> 0;
	return swatches[n % swatches.length];
}

// avatar is a round picture of user, or their initial on their colour.
export function avatar(user, size = 40, status) {
	const url = avatarURL(user);
	const name = displayName(user);
	const box = h('span', { class: 'avatar', 'aria-hidden': 'true' });
	box.style.width = box.style.height = size + 'px';
	if (url) {
		box.append(h('img', { src: url, alt: '', loading: 'lazy', width: size, height: size }));
	} else {
		box.classList.add('initial');
		box.style.backgroundColor = swatch(user ? user.id : '0');
		box.style.fontSize = Math.round(size * 0.42) + 'px';
		box.textContent = (name || '?').trim().charAt(0).toUpperCase() || '?';
	}
	if (status) box.append(h('span', { class: 'dot ' + status, title: status }));
	return box;
}

export function displayName(user) {
	if (!user) return 'Unknown user';
	return user.global_name || user.username || user.id;
}

// acronym is what a guild without an icon shows in the rail.
export function acronym(name) {
	return (name || '?').split(/\s+/).filter(Boolean).map((w) => [...w][0]).join('').slice(0, 4);
}

// fmtSize is a byte count for people.
export function fmtSize(n) {
	if (n < 1024) return n + ' B';
	if (n < 1048576) return (n / 1024).toFixed(1) + ' KB';
	return (n / 1048576).toFixed(1) + ' MB';
}

// toast shows a short notice at the bottom of the screen.
export function toast(text, kind = 'info') {
	let box = document.getElementById('toasts');
	if (!box) {
		box = h('div', { id: 'toasts', role: 'status', 'aria-live': 'polite' });
		document.body.append(box);
	}
	const t = h('div', { class: 'toast ' + kind, text });
	box.append(t);
	setTimeout(() => t.remove(), 4000);
}

// icon is a small inline SVG from a path; decorative unless labelled.
export function icon(d, size = 20) {
	const ns = 'http://www.w3.org/2000/svg';
	const svg = document.createElementNS(ns, 'svg');
	svg.setAttribute('viewBox', '0 0 24 24');
	svg.setAttribute('width', size);
	svg.setAttribute('height', size);
	svg.setAttribute('aria-hidden', 'true');
	const p = document.createElementNS(ns, 'path');
	p.setAttribute('d', d);
	p.setAttribute('fill', 'currentColor');
	svg.append(p);
	return svg;
}

// Paths for icon (Material Design shapes, drawn as single paths).
export const icons = {
	hash: 'M10 3 8.6 9H4v2h4.2l-1 4H3v2h3.8L5.6 21h2l1.2-4h4l-1.2 4h2l1.2-4H20v-2h-4.8l1-4H21V9h-4.4L18 3h-2l-1.4 6h-4L12 3h-2Zm.2 8h4l-1 4h-4l1-4Z',
	speaker: 'M3 9v6h4l5 5V4L7 9H3Zm13.5 3A4.5 4.5 0 0 0 14 8v8a4.5 4.5 0 0 0 2.5-4ZM14 3.2v2.1a7 7 0 0 1 0 13.4v2.1A9 9 0 0 0 14 3.2Z',
	plus: 'M19 13h-6v6h-2v-6H5v-2h6V5h2v6h6v2Z',
	gear: 'M19.1 12.9a7 7 0 0 0 0-1.8l2-1.6-2-3.4-2.4 1a7 7 0 0 0-1.6-.9L14.8 3h-4l-.4 2.6a7 7 0 0 0-1.5.9l-2.4-1-2 3.4 2 1.6a7 7 0 0 0 0 1.8l-2 1.6 2 3.4 2.4-1c.5.4 1 .7 1.5.9l.4 2.6h4l.4-2.6c.6-.2 1.1-.5 1.6-.9l2.4 1 2-3.4-2-1.6ZM12.8 15.5a3.5 3.5 0 1 1 0-7 3.5 3.5 0 0 1 0 7Z',
	people: 'M16 11a3 3 0 1 0-3-3 3 3 0 0 0 3 3Zm-8 0a3 3 0 1 0-3-3 3 3 0 0 0 3 3Zm0 2c-2.3 0-7 1.2-7 3.5V19h14v-2.5C15 14.2 10.3 13 8 13Zm8 0h-1a4.2 4.2 0 0 1 2 3.5V19h6v-2.5c0-2.3-4.7-3.5-7-3.5Z',
	menu: 'M3 6h18v2H3V6Zm0 5h18v2H3v-2Zm0 5h18v2H3v-2Z',
	reply: 'M10 9V5l-7 7 7 7v-4.1c5 0 8.5 1.6 11 5.1-1-5-4-10-11-11Z',
	edit: 'M3 17.2V21h3.8l11-11-3.8-3.8-11 11ZM20.7 7a1 1 0 0 0 0-1.4l-2.3-2.3a1 1 0 0 0-1.4 0l-1.8 1.8 3.8 3.8L20.7 7Z',
	trash: 'M6 19a2 2 0 0 0 2 2h8a2 2 0 0 0 2-2V7H6v12ZM19 4h-3.5l-1-1h-5l-1 1H5v2h14V4Z',
	smile: 'M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20Zm-3.5 6a1.5 1.5 0 1 1 0 3 1.5 1.5 0 0 1 0-3Zm7 0a1.5 1.5 0 1 1 0 3 1.5 1.5 0 0 1 0-3ZM12 17.5A5.5 5.5 0 0 1 6.9 14h10.2a5.5 5.5 0 0 1-5.1 3.5Z',
	close: 'M19 6.4 17.6 5 12 10.6 6.4 5 5 6.4l5.6 5.6L5 17.6 6.4 19l5.6-5.6 5.6 5.6 1.4-1.4-5.6-5.6L19 6.4Z',
	search: 'M15.5 14h-.8l-.3-.3A6.5 6.5 0 1 0 14 15.5l.3.3v.8l5 5 1.5-1.5-5-5Zm-6 0a4.5 4.5 0 1 1 0-9 4.5 4.5 0 0 1 0 9Z',
	file: 'M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8l-6-6Zm-1 7V3.5L18.5 9H13Z',
	chevron: 'M7 10l5 5 5-5H7Z',
	home: 'M4 5a3 3 0 0 1 3-3h10a3 3 0 0 1 3 3v9a3 3 0 0 1-3 3h-6l-5 4v-4a3 3 0 0 1-2-3V5Z',
	back: 'M20 11H7.8l5.6-5.6L12 4l-8 8 8 8 1.4-1.4L7.8 13H20v-2Z',
	pin: 'M16 9V4h1V2H7v2h1v5l-2 2v2h5.2v7h1.6v-7H18v-2l-2-2Z',
	at: 'M12 2a10 10 0 0 0 0 20h5v-2h-5a8 8 0 1 1 8-8v1.4c0 .8-.7 1.6-1.5 1.6S17 14.2 17 13.4V12a5 5 0 1 0-1.5 3.5A3.7 3.7 0 0 0 18.5 17 3.5 3.5 0 0 0 22 13.4V12A10 10 0 0 0 12 2Zm0 13a3 3 0 1 1 0-6 3 3 0 0 1 0 6Z',
	leave: 'M17 7l-1.4 1.4 2.6 2.6H8v2h10.2l-2.6 2.6L17 17l5-5-5-5ZM4 5h8V3H4a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h8v-2H4V5Z',
	apps: 'M4 8h4V4H4v4Zm6 12h4v-4h-4v4Zm-6 0h4v-4H4v4Zm0-6h4v-4H4v4Zm6 0h4v-4h-4v4Zm6-10v4h4V4h-4Zm-6 4h4V4h-4v4Zm6 6h4v-4h-4v4Zm0 6h4v-4h-4v4Z',
	camera: 'M17 10.5V7a1 1 0 0 0-1-1H4a1 1 0 0 0-1 1v10a1 1 0 0 0 1 1h12a1 1 0 0 0 1-1v-3.5l4 4v-11l-4 4Z',
	screen: 'M20 18a2 2 0 0 0 2-2V6a2 2 0 0 0-2-2H4a2 2 0 0 0-2 2v10a2 2 0 0 0 2 2H0v2h24v-2h-4ZM4 6h16v10H4V6Z',
	mic: 'M12 14a3 3 0 0 0 3-3V5a3 3 0 0 0-6 0v6a3 3 0 0 0 3 3Zm5-3a5 5 0 0 1-10 0H5a7 7 0 0 0 6 6.9V21h2v-3.1a7 7 0 0 0 6-6.9h-2Z',
	headphones: 'M12 3a9 9 0 0 0-9 9v7a2 2 0 0 0 2 2h3v-8H5v-1a7 7 0 0 1 14 0v1h-3v8h3a2 2 0 0 0 2-2v-7a9 9 0 0 0-9-9Z',
	hangup: 'M12 9c-1.6 0-3.2.3-4.6.7v3.1c0 .4-.2.7-.6.9-1 .5-1.9 1.1-2.7 1.9a1 1 0 0 1-1.4 0L.3 13.1a1 1 0 0 1 0-1.4C3.3 8.8 7.5 7 12 7s8.7 1.8 11.7 4.7a1 1 0 0 1 0 1.4l-2.5 2.5a1 1 0 0 1-1.4 0c-.8-.8-1.7-1.4-2.7-1.9a1 1 0 0 1-.6-.9V9.7C15.2 9.3 13.6 9 12 9Z',
};
