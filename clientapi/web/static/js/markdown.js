// Discord's markdown subset, turned straight into DOM nodes: bold,
// italics, underline, strike, inline code, code blocks, links, spoilers,
// block quotes, mentions and custom emoji. Every piece of the text ends in
// a text node; the only attribute taken from it is a link's href, and only
// for http and https URLs.

import { h } from './dom.js';

// Nesting deeper than this is shown as written.
const maxDepth = 6;

// Resolver names what mentions point at: user(id), channel(id), role(id)
// return a label or null, and onChannel(id) opens a channel.
export function render(text, r) {
	const out = document.createDocumentFragment();
	const re = /```(?:([\w+-]{1,20})\n)?([\s\S]*?)```/g;
	let at = 0;
	for (let m; (m = re.exec(text));) {
		if (m.index > at) blocks(text.slice(at, m.index), out, r);
		const code = m[2].replace(/^\n/, '');
		out.append(h('pre', { class: 'codeblock' }, h('code', { 'data-lang': m[1] || null }, code)));
		at = m.index + m[0].length;
	}
	if (at < text.length) blocks(text.slice(at), out, r);
	return out;
}

// blocks splits quotes ("> " lines) from plain lines.
function blocks(text, out, r) {
	const lines = text.split('\n');
	let quote = null;
	let plain = [];
	const flushPlain = () => {
		if (plain.length) inline(plain.join('\n'), out, r, 0);
		plain = [];
	};
	for (const line of lines) {
		const q = /^>>> ?([\s\S]*)$/.exec(line) ? null : /^> ?(.*)$/.exec(line);
		if (q) {
			flushPlain();
			if (!quote) {
				quote = h('blockquote');
				out.append(quote);
			} else quote.append('\n');
			inline(q[1], quote, r, 1);
		} else {
			quote = null;
			plain.push(line);
		}
	}
	flushPlain();
}

// Delimited styles, longest first so ** wins over *.
const styles = [
	['**', 'strong'],
	['__', 'u'],
	['~~', 's'],
	['||', 'spoiler'],
	['*', 'em'],
	['_', 'em'],
];

const mentionRe = /^<(@!?|@&|#)(\d{1,20})>/;
const emojiRe = /^<a?:(\w{2,32}):(\d{1,20})>/;
const maskedRe = /^\[([^\][\n]{1,200})\]\(\s*<?(https?:\/\/[^\s()<>]{1,2000})>?\s*\)/;
const urlRe = /^https?:\/\/[^\s<]{1,2000}[^\s<.,:;"')\]!?*_~|]/;
const escapable = /[\\*_~`|<>[\]()#@:]/;

// isWord tells letters and digits, of any script, from the rest. (A
// \p{L} class would do, but compiling it costs the first message 20 ms.)
function isWord(c) {
	if (c === undefined) return false;
	if (c < '\x80') return /\w/.test(c) && c !== '_';
	return c.toLowerCase() !== c.toUpperCase();
}

// inline renders one run of text into el.
function inline(s, el, r, depth) {
	let text = '';
	const flush = () => {
		if (text) el.append(text);
		text = '';
	};
	let i = 0;
	outer: while (i < s.length) {
		const c = s[i];
		if (c === '\\' && escapable.test(s[i + 1] || '')) {
			text += s[i + 1];
			i += 2;
			continue;
		}
		if (c === '`') {
			const m = /^(`{1,2})([^`]|[^`][\s\S]*?[^`])\1(?!`)/.exec(s.slice(i));
			if (m) {
				flush();
				el.append(h('code', { class: 'inline' }, m[2]));
				i += m[0].length;
				continue;
			}
		}
		if (depth < maxDepth) {
			for (const [d, tag] of styles) {
				if (!s.startsWith(d, i)) continue;
				if (d === '_' && isWord(s[i - 1])) continue; // snake_case stays as it is
				const end = closing(s, d, i + d.length);
				if (end < 0) continue;
				if (d === '_' && isWord(s[end + 1])) continue;
				flush();
				const inner = tag === 'spoiler'
					? h('span', { class: 'spoiler', tabindex: '0', role: 'button', 'aria-label': 'Spoiler, select to reveal', onclick: reveal, onkeydown: revealKey })
					: h(tag);
				inline(s.slice(i + d.length, end), inner, r, depth + 1);
				el.append(inner);
				i = end + d.length;
				continue outer;
			}
		}
		if (c === '<') {
			let m = mentionRe.exec(s.slice(i));
			if (m) {
				flush();
				el.append(mention(m[1], m[2], r));
				i += m[0].length;
				continue;
			}
			m = emojiRe.exec(s.slice(i));
			if (m) {
				flush();
				el.append(h('span', { class: 'emoji custom', title: ':' + m[1] + ':' }, ':' + m[1] + ':'));
				i += m[0].length;
				continue;
			}
		}
		if (c === '[') {
			const m = maskedRe.exec(s.slice(i));
			if (m && safeURL(m[2])) {
				flush();
				el.append(link(m[2], m[1]));
				i += m[0].length;
				continue;
			}
		}
		if (c === 'h' && !isWord(s[i - 1])) {
			const m = urlRe.exec(s.slice(i));
			if (m && safeURL(m[0])) {
				flush();
				el.append(link(m[0], m[0]));
				i += m[0].length;
				continue;
			}
		}
		if (c === '@' && !isWord(s[i - 1])) {
			const m = /^@(everyone|here)\b/.exec(s.slice(i));
			if (m) {
				flush();
				el.append(h('span', { class: 'mention' }, m[0]));
				i += m[0].length;
				continue;
			}
		}
		text += c;
		i++;
	}
	flush();
}

// closing finds where a style opened at from closes, skipping escapes and
// code spans; -1 when it does not, or when it would be empty.
function closing(s, d, from) {
	for (let j = from; j < s.length; j++) {
		if (s[j] === '\\') {
			j++;
			continue;
		}
		if (s.startsWith(d, j)) {
			return j === from ? -1 : j;
		}
	}
	return -1;
}

// safeURL says whether u may be a link's href: http and https only.
export function safeURL(u) {
	try {
		const p = new URL(u);
		return p.protocol === 'https:' || p.protocol === 'http:';
	} catch {
		return false;
	}
}

function link(href, label) {
	return h('a', { href, target: '_blank', rel: 'noopener noreferrer nofollow ugc', title: href }, label);
}

function mention(kind, id, r) {
	if (kind === '#') {
		const name = r && r.channel(id);
		return h('span', {
			class: 'mention channel',
			role: 'link',
			tabindex: '0',
			onclick: () => r && r.onChannel(id),
			onkeydown: (e) => { if (e.key === 'Enter' && r) r.onChannel(id); },
		}, '#' + (name || 'unknown-channel'));
	}
	if (kind === '@&') {
		const name = r && r.role(id);
		return h('span', { class: 'mention role' }, '@' + (name || 'unknown-role'));
	}
	const name = r && r.user(id);
	return h('span', { class: 'mention user', 'data-user': id, role: 'button', tabindex: '0' }, '@' + (name || 'unknown-user'));
}

function reveal(e) { e.currentTarget.classList.add('shown'); }
function revealKey(e) { if (e.key === 'Enter' || e.key === ' ') reveal(e); }

// plain is a message's text for a notification: mentions named, markdown
// left as typed.
export function plain(text, r) {
	return text.replace(/<(@!?|@&|#)(\d{1,20})>/g, (_, k, id) => {
		if (k === '#') return '#' + ((r && r.channel(id)) || 'channel');
		if (k === '@&') return '@' + ((r && r.role(id)) || 'role');
		return '@' + ((r && r.user(id)) || 'user');
	});
}
