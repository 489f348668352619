// One message as the pane shows it: a date separator and unread line when
// due, the reply it answers, the author's header (unless grouped with the
// previous message), the text, attachments, reactions and the actions the
// person may take. Everything the author wrote goes in as text nodes.

import * as commands from './commands.js';
import * as components from './components.js';
import { avatar, fmtDay, fmtFull, fmtSize, fmtStamp, fmtTime, h, icon, icons, idTime, sameDay } from './dom.js';
import * as embeds from './embeds.js';
import * as md from './markdown.js';
import * as state from './state.js';

// Messages by one author this close together share a header.
const groupMs = 7 * 60_000;

const types = { reply: 19 };
// Discord's message flags the pane shows.
const flags = { ephemeral: 1 << 6, loading: 1 << 7 };

// ephemeral is the flag of an answer only its reader sees, which no one
// can react to or reply to.
export const ephemeral = flags.ephemeral;

function grouped(m, prev) {
	if (!prev || prev.author.id !== m.author.id || m.message_reference || prev.failed || m.type === types.reply || used(m)) return false;
	return idTime(m.id) - idTime(prev.id) < groupMs && sameDay(idTime(m.id), idTime(prev.id));
}

// resolver names mentions for the markdown of a guild (or DM) channel.
export function resolver(guildID, openChannel) {
	return {
		user: (id) => {
			const u = state.users.get(id);
			return u ? state.nameIn(guildID, u) : null;
		},
		channel: (id) => {
			const c = state.channels.get(id);
			return c ? c.name : null;
		},
		role: (id) => {
			const g = state.guilds.get(guildID);
			const r = g && g.roles.get(id);
			return r ? r.name : null;
		},
		onChannel: openChannel,
	};
}

// render draws message m after prev. ctx holds the channel's guild ID, the
// resolver, the last read message (for the unread line), what the person
// may do (canManage), and the actions' handlers.
export function render(m, prev, ctx) {
	const t = idTime(m.id);
	const el = h('div', {
		class: 'msg',
		role: 'article',
		tabindex: '-1',
		'data-id': m.id,
		'aria-label': `${state.nameIn(ctx.guildID, m.author)}, ${fmtStamp(t)}`,
	});
	if (!prev || !sameDay(t, idTime(prev.id))) {
		el.append(h('div', { class: 'daysep', role: 'separator' }, h('span', {}, fmtDay(t))));
	}
	if (ctx.unreadAfter && prev && prev.id === ctx.unreadAfter && m.author.id !== ctx.me) {
		el.append(h('div', { class: 'newsep', role: 'separator', 'aria-label': 'New messages' }, h('span', {}, 'New')));
	}
	const isGrouped = grouped(m, prev) && !el.firstChild;
	if (m.message_reference) el.append(replyLine(m, ctx));
	else if (used(m)) el.append(usedLine(m, ctx));
	const body = h('div', { class: 'body' });
	if (isGrouped) {
		el.classList.add('grouped');
		el.append(h('time', { class: 'side', dateTime: t.toISOString(), title: fmtFull(t) }, fmtTime(t)));
	} else {
		const name = state.nameIn(ctx.guildID, m.author);
		const color = ctx.guildID ? state.colorOf(ctx.guildID, m.author.id) : '';
		const who = h('button', { class: 'author', 'data-user': m.author.id, 'aria-label': 'Profile of ' + name }, name);
		if (color) who.style.color = color;
		const av = h('button', { class: 'avbtn', 'data-user': m.author.id, tabindex: '-1', 'aria-hidden': 'true' }, avatar(m.author, 40));
		el.append(av);
		body.append(h('div', { class: 'head' }, who, m.author.bot ? h('span', { class: 'tag' }, 'BOT') : null,
			h('time', { dateTime: t.toISOString(), title: fmtFull(t) }, fmtStamp(t))));
	}
	const text = h('div', { class: 'text' });
	if (m.flags & flags.loading) text.append(h('span', { class: 'thinking' }, state.nameIn(ctx.guildID, m.author) + ' is thinking…'));
	if (m.content) text.append(md.render(m.content, ctx.resolve));
	if (m.edited_timestamp) text.append(h('span', { class: 'edited', title: fmtFull(new Date(m.edited_timestamp)) }, ' (edited)'));
	if (m.pinned) text.append(' ', h('span', { class: 'pinned', title: 'Pinned', role: 'img', 'aria-label': 'Pinned' }, icon(icons.pin, 14)));
	if (ctx.mentionsMe && ctx.mentionsMe(m)) el.classList.add('mentioned');
	body.append(text);
	for (const part of [embeds.render(m, ctx.resolve), components.render(m, ctx.guildID)]) if (part) body.append(part);
	if (m.attachments && m.attachments.length) body.append(attachments(m));
	if (m.reactions && m.reactions.length) body.append(reactions(m, ctx));
	if (m.flags & flags.ephemeral) {
		el.classList.add('ephemeral');
		body.append(h('div', { class: 'ephnote' }, 'Only you can see this • ', h('button', { class: 'link', onclick: () => ctx.discard(m) }, 'Dismiss message')));
	}
	if (m.pending) el.classList.add('pending');
	if (m.failed) {
		el.classList.add('failed');
		body.append(h('div', { class: 'failnote', role: 'alert' },
			h('span', {}, 'Not sent: ' + m.failed + ' '),
			h('button', { class: 'link', onclick: () => ctx.retry(m) }, 'Retry'),
			' · ',
			h('button', { class: 'link', onclick: () => ctx.discard(m) }, 'Discard')));
	}
	el.append(body);
	return el;
}

function replyLine(m, ctx) {
	const r = m.referenced_message;
	if (!r) return h('div', { class: 'replyto gone' }, 'Original message was deleted');
	const name = state.nameIn(ctx.guildID, r.author);
	const text = (r.content || '').slice(0, 200).replace(/\n/g, ' ');
	const snippet = text ? md.render(text, ctx.resolve) : (r.attachments && r.attachments.length ? 'Click to see attachment' : '');
	return h('div', { class: 'replyto', role: 'link', tabindex: '-1', onclick: () => ctx.jump(r.id) },
		avatar(r.author, 16), h('span', { class: 'who' }, '@' + name), h('span', { class: 'snippet' }, snippet));
}

// used is what a bot's message answers: a command someone used, or a
// component they clicked.
function used(m) {
	const meta = m.interaction_metadata;
	const old = m.interaction;
	if (!meta && !old) return null;
	return { user: (meta && meta.user) || (old && old.user), name: (old && old.name) || (meta && meta.name) || '', type: (meta || old).type };
}

// What someone did that a bot's message answers, by interaction type,
// when it was not a command: a component used, a form submitted.
const usedWhat = { 3: ' used a component', 5: ' submitted a form' };

function usedLine(m, ctx) {
	const u = used(m);
	const who = u.user ? state.nameIn(ctx.guildID, u.user) : 'Someone';
	// Chat commands are named in lower case; a user or message command,
	// used from a menu, may not be, and takes no slash.
	const shown = u.name && (u.name === u.name.toLowerCase() ? '/' : '') + u.name;
	return h('div', { class: 'replyto used' }, u.user ? avatar(u.user, 16) : null, h('span', { class: 'who' }, who),
		h('span', { class: 'snippet' }, shown ? [' used ', h('span', { class: 'cmdname' }, shown)] : usedWhat[u.type] || ' used an application'));
}

function attachments(m) {
	const box = h('div', { class: 'files' });
	for (const a of m.attachments) {
		const type = a.content_type || '';
		if (type.startsWith('image/') && !m.pending) {
			const img = h('img', { src: a.url, alt: a.filename, loading: 'lazy' });
			if (a.width && a.height) {
				const scale = Math.min(1, 400 / a.width, 300 / a.height);
				img.width = Math.round(a.width * scale);
				img.height = Math.round(a.height * scale);
			}
			box.append(h('a', { class: 'image', href: a.url, target: '_blank', rel: 'noopener', 'aria-label': 'Image ' + a.filename }, img));
		} else if (type.startsWith('video/') && !m.pending) {
			box.append(h('video', { src: a.url, controls: true, preload: 'metadata', class: 'video' }));
		} else {
			box.append(h('div', { class: 'file' }, icon(icons.file, 28),
				h('div', {}, a.url && !m.pending ? h('a', { href: a.url, target: '_blank', rel: 'noopener', download: a.filename }, a.filename) : h('span', {}, a.filename),
					h('div', { class: 'size' }, fmtSize(a.size || 0)))));
		}
	}
	return box;
}

function reactions(m, ctx) {
	const box = h('div', { class: 'reactions' });
	for (const r of m.reactions) {
		const label = r.emoji.id ? ':' + r.emoji.name + ':' : r.emoji.name;
		box.append(h('button', {
			class: 'reaction' + (r.me ? ' me' : ''),
			'aria-pressed': r.me ? 'true' : 'false',
			'aria-label': `${label} reaction, ${r.count}`,
			onclick: () => ctx.react(m, label, !r.me),
		}, h('span', { class: 'emoji' }, label), h('span', { class: 'count' }, String(r.count))));
	}
	box.append(h('button', { class: 'reaction add', 'aria-label': 'Add reaction', onclick: (e) => ctx.pickReaction(m, e.currentTarget) }, icon(icons.smile, 16)));
	return box;
}

// actions is the toolbar of what the person may do to m. The pane shows one
// at a time, on the message under the pointer or holding the focus:
// drawing one per message would cost more than the messages themselves.
export function actions(m, ctx) {
	const mine = m.author.id === ctx.me;
	const bar = h('div', { class: 'actions', role: 'toolbar', 'aria-label': 'Message actions' });
	bar.append(h('button', { title: 'Add reaction', 'aria-label': 'Add reaction', onclick: (e) => ctx.pickReaction(m, e.currentTarget) }, icon(icons.smile, 18)));
	if (ctx.canSend) bar.append(h('button', { title: 'Reply', 'aria-label': 'Reply', onclick: () => ctx.reply(m) }, icon(icons.reply, 18)));
	if (commands.apps(m.channel_id, 3).length) {
		bar.append(h('button', { title: 'Apps', 'aria-label': 'Apps', 'aria-haspopup': 'menu', onclick: (e) => commands.appsMenu(e.currentTarget, m.channel_id, 3, m.id) }, icon(icons.apps, 18)));
	}
	if (ctx.canManage || !ctx.guildID) {
		const label = m.pinned ? 'Unpin' : 'Pin';
		bar.append(h('button', { title: label, 'aria-label': label, onclick: () => ctx.pin(m, !m.pinned) }, icon(icons.pin, 18)));
	}
	if (mine) bar.append(h('button', { title: 'Edit', 'aria-label': 'Edit', onclick: () => ctx.edit(m) }, icon(icons.edit, 18)));
	if (mine || ctx.canManage) bar.append(h('button', { title: 'Delete', 'aria-label': 'Delete', class: 'danger', onclick: (e) => ctx.remove(m, e.shiftKey) }, icon(icons.trash, 18)));
	return bar;
}
