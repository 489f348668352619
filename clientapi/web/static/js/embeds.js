// Embeds, the cards bots and webhooks attach to messages: a coloured bar,
// author, title, description and fields in markdown, an image, a footer.
// Text goes in as markdown.js renders it; links lead only to the web, and
// images show only from the node itself, which the page's policy allows.

import { fmtFull, h } from './dom.js';
import * as md from './markdown.js';

// render draws a message's embeds, or returns null when it has none.
export function render(m, resolve) {
	const list = (m.embeds || []).filter((e) => e && (e.title || e.description || e.fields || e.author || e.footer || e.image));
	if (!list.length) return null;
	return h('div', { class: 'embeds' }, list.map((e) => embed(e, resolve)));
}

function embed(e, resolve) {
	const box = h('article', { class: 'embed', 'aria-label': e.title || (e.author && e.author.name) || 'Embed' });
	if (typeof e.color === 'number') box.style.borderLeftColor = '#' + e.color.toString(16).padStart(6, '0');
	if (e.author && e.author.name) box.append(h('div', { class: 'eauthor' }, linked(e.author.name, e.author.url)));
	if (e.title) box.append(h('div', { class: 'etitle' }, linked(e.title, e.url)));
	if (e.description) box.append(h('div', { class: 'edesc' }, md.render(e.description, resolve)));
	if (e.fields && e.fields.length) {
		box.append(h('div', { class: 'efields' }, e.fields.map((f) => h('div', { class: 'efield' + (f.inline ? ' inline' : '') },
			h('div', { class: 'ename' }, md.render(f.name, resolve)), h('div', { class: 'evalue' }, md.render(f.value, resolve))))));
	}
	const img = e.image && local(e.image.url);
	if (img) box.append(h('img', { class: 'eimage', src: img, alt: '', loading: 'lazy' }));
	const foot = [e.footer && e.footer.text, e.timestamp && !isNaN(Date.parse(e.timestamp)) ? fmtFull(new Date(e.timestamp)) : ''].filter(Boolean);
	if (foot.length) box.append(h('div', { class: 'efoot' }, foot.join(' • ')));
	return box;
}

function linked(text, url) {
	return url && md.safeURL(url) ? h('a', { href: url, target: '_blank', rel: 'noopener noreferrer nofollow ugc' }, text) : text;
}

// local is url when it points at the node itself, else null.
function local(url) {
	try {
		const u = new URL(url, location.href);
		return u.origin === location.origin ? u.href : null;
	} catch {
		return null;
	}
}
