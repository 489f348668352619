// The composer: what a person types, with mention, channel and emoji
// autocomplete, files (button, drag-and-drop, paste), the reply being
// written, the typing signal, and who else is typing. Drafts are kept per
// channel in localStorage, so a reload or an expired session loses none.

import * as api from './api.js';
import * as commands from './commands.js';
import { avatar, fmtSize, h, icon, icons } from './dom.js';
import * as emoji from './emoji.js';
import { P, can } from './perms.js';
import * as state from './state.js';

// Discord's client signals typing at most every 8 s; a signal lasts 10 s.
const typingEvery = 8000;
const maxLength = 2000;
// A bot is asked for suggestions this long after the typing stops.
const suggestAfter = 250;

export class Composer {
	constructor(pane) {
		this.pane = pane;
		this.channel = null;
		this.files = [];
		this.reply = null;
		this.lastTyping = 0;
		this.mentions = new Map(); // "@name" typed through autocomplete → "<@id>"
		this.input = h('textarea', { class: 'input', rows: 1, 'aria-label': 'Message', 'aria-autocomplete': 'list', 'aria-controls': 'ac' });
		this.fileInput = h('input', { type: 'file', multiple: true, hidden: true, 'aria-hidden': 'true' });
		this.attach = h('button', { class: 'attach', 'aria-label': 'Upload a file', title: 'Upload a file', onclick: () => this.fileInput.click() }, icon(icons.plus, 20));
		this.emojiBtn = h('button', { class: 'emojibtn', 'aria-label': 'Choose an emoji', title: 'Emoji', onclick: () => emoji.pick(this.emojiBtn, (e) => this.insert(e)) }, icon(icons.smile, 22));
		this.replyBar = h('div', { class: 'replybar', hidden: true });
		this.filesBar = h('div', { class: 'filesbar', hidden: true });
		this.ac = h('div', { class: 'autocomplete', id: 'ac', role: 'listbox', hidden: true });
		this.typingLine = h('div', { class: 'typing', 'aria-live': 'polite' });
		this.hint = h('div', { class: 'cmdhint', hidden: true });
		this.status = h('div', { class: 'cmdstatus', hidden: true });
		this.counter = h('span', { class: 'counter' });
		this.box = h('div', { class: 'inputbox' }, this.ac, this.attach, this.input, this.counter, this.emojiBtn);
		this.el = h('div', { class: 'composer' }, this.status, this.hint, this.replyBar, this.filesBar, this.box, this.fileInput, this.typingLine);
		this.input.addEventListener('keydown', (e) => this.keydown(e));
		this.input.addEventListener('input', () => this.changed());
		this.input.addEventListener('paste', (e) => {
			const files = [...(e.clipboardData ? e.clipboardData.files : [])];
			if (files.length) {
				e.preventDefault();
				this.addFiles(files);
			}
		});
		this.fileInput.addEventListener('change', () => {
			this.addFiles([...this.fileInput.files]);
			this.fileInput.value = '';
		});
		state.on('typing', (id) => {
			if (id === this.channel) this.drawTyping();
		});
	}

	// dropTarget lets files dropped anywhere on el join the message.
	dropTarget(el) {
		el.addEventListener('dragover', (e) => {
			if (!this.channel || !e.dataTransfer.types.includes('Files')) return;
			e.preventDefault();
			el.classList.add('dropping');
		});
		el.addEventListener('dragleave', (e) => {
			if (!el.contains(e.relatedTarget)) el.classList.remove('dropping');
		});
		el.addEventListener('drop', (e) => {
			el.classList.remove('dropping');
			if (!this.channel || !e.dataTransfer.files.length) return;
			e.preventDefault();
			this.addFiles([...e.dataTransfer.files]);
		});
	}

	open(channelID) {
		this.channel = channelID;
		const c = state.channels.get(channelID);
		this.files = [];
		this.reply = null;
		this.mentions.clear();
		this.drawFiles();
		this.drawReply();
		this.drawTyping();
		this.permissions();
		this.say(null);
		this.input.value = localStorage.getItem(this.draftKey()) || '';
		this.grow();
	}

	// permissions follows what the person may do here: roles, overwrites
	// and timeouts change while the channel is open.
	permissions() {
		const c = state.channels.get(this.channel);
		if (!c) return;
		const allowed = can(c.id, P.SEND_MESSAGES);
		const mine = c.guild_id && state.member(c.guild_id, state.me.user.id);
		const until = mine && mine.communication_disabled_until ? Date.parse(mine.communication_disabled_until) : 0;
		this.input.disabled = !allowed;
		this.attach.hidden = !can(c.id, P.ATTACH_FILES);
		this.input.placeholder = until > Date.now() ? 'You are timed out until ' + new Date(until).toLocaleString() + '.'
			: !allowed ? 'You do not have permission to send messages in this channel.'
				: 'Message ' + (c.guild_id ? '#' + c.name : c.type === 1 ? '@' + dmName(c) : dmName(c));
		clearTimeout(this.timeoutEnds);
		if (until > Date.now()) this.timeoutEnds = setTimeout(() => this.permissions(), Math.min(until - Date.now() + 500, 2 ** 31 - 1));
	}

	draftKey() { return `concord.draft.${state.me.user.id}.${this.channel}`; }

	// focus puts the caret in the composer, except on touch screens, where
	// it would pop the keyboard up over the messages.
	focus() {
		if (!matchMedia('(pointer: coarse)').matches) this.input.focus();
	}

	insert(text) {
		const a = this.input;
		const at = a.selectionStart;
		a.setRangeText(text, at, a.selectionEnd, 'end');
		a.focus();
		this.changed();
	}

	changed() {
		const v = this.input.value;
		if (v) localStorage.setItem(this.draftKey(), v);
		else localStorage.removeItem(this.draftKey());
		this.grow();
		const left = maxLength - v.length;
		this.counter.textContent = left < 200 ? String(left) : '';
		this.counter.classList.toggle('over', left < 0);
		if (v && Date.now() - this.lastTyping > typingEvery) {
			this.lastTyping = Date.now();
			api.post(`/channels/${this.channel}/typing`).catch(() => {});
		}
		this.autocomplete();
	}

	grow() {
		this.input.style.height = 'auto';
		this.input.style.height = Math.min(this.input.scrollHeight, 300) + 'px';
	}

	keydown(e) {
		if (!this.ac.hidden && this.acKeys(e)) return;
		if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
			e.preventDefault();
			this.submit();
		} else if (e.key === 'Escape') {
			if (this.reply) {
				this.reply = null;
				this.drawReply();
			}
		} else if (e.key === 'ArrowUp' && !this.input.value) {
			if (this.pane.editLast()) e.preventDefault();
		}
	}

	submit() {
		let content = this.input.value.trim();
		if (!content && !this.files.length) return;
		if (content.length > maxLength) return;
		const c = state.channels.get(this.channel);
		const found = content.startsWith('/') && commands.find(c.id, content);
		if (found) {
			this.command(found, content);
			return;
		}
		content = this.encode(content);
		this.pane.send(content, this.files, this.reply);
		this.input.value = '';
		localStorage.removeItem(this.draftKey());
		this.files = [];
		this.reply = null;
		this.mentions.clear();
		this.lastTyping = 0;
		this.drawFiles();
		this.drawReply();
		this.changed();
	}

	// command invokes a bot's command. Text that names its options wrongly
	// stays to be mended; once sent, the composer empties, and a bot that
	// fails to answer gets the text back, to try again.
	async command(found, text) {
		const ch = this.channel;
		let run;
		try {
			run = commands.invoke(found, ch);
		} catch (err) {
			this.say(err.text || String(err), true);
			return;
		}
		this.input.value = '';
		this.changed();
		this.say('Sending /' + found.cmd.name + '…');
		try {
			await run;
			if (this.channel === ch) this.say(null);
		} catch (err) {
			if (this.channel !== ch) return;
			this.say(`/${found.cmd.name}: ${err.text || err}`, true);
			if (!this.input.value) {
				this.input.value = text;
				this.changed();
			}
		}
	}

	// say shows how a command fares above the composer; alert for a
	// failure, which stays until dismissed.
	say(text, alert) {
		this.status.hidden = !text;
		this.status.className = 'cmdstatus' + (alert ? ' failed' : '');
		this.status.setAttribute('role', alert ? 'alert' : 'status');
		this.status.replaceChildren();
		if (!text) return;
		this.status.append(h('span', {}, text));
		if (alert) this.status.append(h('button', { class: 'x', 'aria-label': 'Dismiss', onclick: () => this.say(null) }, '×'));
	}

	// encode turns "@name", "#channel" and "@role" into Discord's mention
	// syntax where they name someone.
	encode(text) {
		const c = state.channels.get(this.channel);
		const g = c && state.guilds.get(c.guild_id);
		for (const [shown, code] of this.mentions) text = text.split(shown).join(code);
		if (!g) return text;
		text = text.replace(/(^|\s)@([\w.]{2,32})\b/g, (all, pre, name) => {
			if (name === 'everyone' || name === 'here') return all;
			const lower = name.toLowerCase();
			for (const m of g.members.values()) {
				if (m.user && m.user.username === lower) return pre + '<@' + m.user.id + '>';
			}
			for (const r of g.roles.values()) if (r.name === name && r.id !== g.id) return pre + '<@&' + r.id + '>';
			return all;
		});
		return text.replace(/(^|\s)#([\w-]{1,100})\b/g, (all, pre, name) => {
			for (const ch of g.channels.values()) if (ch.name === name && ch.type !== 4) return pre + '<#' + ch.id + '>';
			return all;
		});
	}

	replyTo(m) {
		this.reply = m;
		this.drawReply();
		this.input.focus();
	}

	drawReply() {
		this.replyBar.hidden = !this.reply;
		this.replyBar.replaceChildren();
		if (!this.reply) return;
		const c = state.channels.get(this.channel);
		this.replyBar.append(h('span', {}, 'Replying to ', h('strong', {}, state.nameIn(c && c.guild_id, this.reply.author))),
			h('button', { class: 'x', 'aria-label': 'Cancel reply', onclick: () => { this.reply = null; this.drawReply(); } }, '×'));
	}

	addFiles(files) {
		if (this.attach.hidden) return;
		this.files = this.files.concat(files).slice(0, 10);
		this.drawFiles();
		this.input.focus();
	}

	drawFiles() {
		for (const u of this.previews || []) URL.revokeObjectURL(u);
		this.previews = [];
		this.filesBar.replaceChildren();
		this.filesBar.hidden = !this.files.length;
		for (const f of this.files) {
			let preview = icon(icons.file, 40);
			if (f.type.startsWith('image/')) {
				const u = URL.createObjectURL(f);
				this.previews.push(u);
				preview = h('img', { src: u, alt: '' });
			}
			this.filesBar.append(h('div', { class: 'upload' }, h('div', { class: 'thumb' }, preview),
				h('div', { class: 'fname' }, f.name), h('div', { class: 'size' }, fmtSize(f.size)),
				h('button', { class: 'x', 'aria-label': 'Remove ' + f.name, onclick: () => { this.files = this.files.filter((x) => x !== f); this.drawFiles(); } }, '×')));
		}
	}

	drawTyping() {
		const c = state.channels.get(this.channel);
		const who = state.typers(this.channel).map((u) => state.nameIn(c && c.guild_id, u));
		this.typingLine.replaceChildren();
		if (!who.length) return;
		const text = who.length === 1 ? [h('strong', {}, who[0]), ' is typing…']
			: who.length <= 3 ? [h('strong', {}, who.slice(0, -1).join(', ')), ' and ', h('strong', {}, who[who.length - 1]), ' are typing…']
				: ['Several people are typing…'];
		this.typingLine.append(h('span', { class: 'dots', 'aria-hidden': 'true' }, h('i'), h('i'), h('i')), ...text);
	}

	// autocomplete offers people (@), channels (#) and emoji (:) for the
	// word before the caret.
	autocomplete() {
		const a = this.input;
		const before = a.value.slice(0, a.selectionStart);
		const slash = this.slash(before);
		if (slash) {
			this.acItems = slash.items;
			this.acWord = slash.word;
			this.acIndex = 0;
			this.drawAC();
			return;
		}
		const m = /(^|\s)([@#:])([\w.-]*)$/.exec(before);
		const c = state.channels.get(this.channel);
		const g = c && state.guilds.get(c.guild_id);
		let items = [];
		if (m) {
			const q = m[3].toLowerCase();
			if (m[2] === '@') items = this.people(g, c, q);
			else if (m[2] === '#' && g) {
				items = [...g.channels.values()].filter((ch) => ch.type !== 4 && ch.name.toLowerCase().includes(q)).slice(0, 8)
					.map((ch) => ({ label: '#' + ch.name, insert: '#' + ch.name, code: '<#' + ch.id + '>' }));
			} else if (m[2] === ':' && q.length >= 2) {
				items = emoji.search(q).map(([name, e]) => ({ label: e + '  :' + name + ':', insert: e }));
			}
		}
		this.acItems = items;
		this.acWord = m ? m[2] + m[3] : '';
		this.acIndex = 0;
		this.drawAC();
	}

	// slash offers the channel's commands while the text starts with "/",
	// then the chosen command's subcommands, parameters and choices, and
	// shows what the command takes above the composer.
	slash(before) {
		const c = state.channels.get(this.channel);
		const text = this.input.value;
		if (!c || !text.startsWith('/')) {
			this.drawHint(null);
			return null;
		}
		const idx = commands.index(c.id, () => {
			if (this.channel === c.id) this.autocomplete();
		});
		const head = /^\/(\S*)$/.exec(before);
		if (head) {
			this.drawHint(commands.find(c.id, text));
			const q = head[1].toLowerCase();
			return {
				word: before,
				items: (idx.list || []).filter((x) => x.name.startsWith(q)).slice(0, 10).map((x) => {
					const app = idx.apps.get(x.application_id);
					return { label: '/' + x.name, sub: x.description + (app ? ' · ' + app.name : ''), insert: '/' + x.name };
				}),
			};
		}
		this.drawHint(commands.find(c.id, text));
		const f = commands.find(c.id, before);
		if (!f) return null;
		const p = commands.params(f.cmd, f.rest);
		const word = /(\S*)$/.exec(before)[1];
		const lower = word.toLowerCase();
		const pick = /^([^\s:]+):(.*)$/.exec(word);
		let items = [];
		if (p.subs) {
			items = p.subs.filter((o) => o.name.startsWith(lower)).map((o) => ({ label: o.name, sub: o.description, insert: o.name }));
		} else if (pick) {
			const o = p.params.find((x) => x.name === pick[1].toLowerCase());
			if (o && o.autocomplete) this.suggest(f, p.path, o, pick[2]);
			const list = o && (o.choices || (o.autocomplete ? commands.suggestions(f.cmd, o) : null));
			if (list) {
				return { word: pick[2], items: list.filter((x) => x.name.toLowerCase().startsWith(pick[2].toLowerCase())).slice(0, 25).map((x) => ({ label: x.name, insert: x.name })) };
			}
		} else {
			items = p.left.filter((o) => o.name.startsWith(lower))
				.map((o) => ({ label: o.name + ':', sub: (o.required ? 'required · ' : '') + o.description, insert: o.name + ':', glue: true }));
		}
		return { word, items: items.slice(0, 10) };
	}

	// suggest asks the bot for choices for what is typed of an option, a
	// moment after the typing stops, and offers them once they come.
	suggest(found, path, o, partial) {
		const key = found.cmd.id + '/' + o.name + '/' + partial;
		if (this.suggesting === key) return;
		this.suggesting = key;
		clearTimeout(this.suggestTimer);
		const ch = this.channel;
		this.suggestTimer = setTimeout(() => {
			commands.suggest(found, path, o, partial, ch).then(() => {
				if (this.channel === ch && this.suggesting === key) this.autocomplete();
			}, () => {});
		}, suggestAfter);
	}

	// drawHint shows the command being written: its name, what it does,
	// and its options, the required ones marked.
	drawHint(found) {
		this.hint.hidden = !found;
		this.hint.replaceChildren();
		if (!found) return;
		const p = commands.params(found.cmd, found.rest);
		const opts = (p.subs || p.params).map((o) => h('span', { class: 'opt' + (o.required ? ' req' : ''), title: o.description }, o.name));
		this.hint.append(h('strong', {}, '/' + found.cmd.name), ' ', h('span', { class: 'desc' }, found.cmd.description), ...opts,
			found.app ? h('span', { class: 'app' }, found.app.name) : null);
	}

	people(g, c, q) {
		const out = [];
		const list = g ? [...g.members.values()].map((mem) => mem.user) : (c.recipients || []).concat([state.me.user]);
		for (const u of list) {
			if (!u) continue;
			const name = state.nameIn(g && g.id, u);
			if (u.username.startsWith(q) || name.toLowerCase().startsWith(q)) {
				out.push({ label: name, sub: u.username, user: u, insert: '@' + u.username, code: '<@' + u.id + '>' });
			}
			if (out.length >= 8) break;
		}
		if (g) {
			for (const r of g.roles.values()) {
				if (r.id !== g.id && r.mentionable && r.name.toLowerCase().startsWith(q)) out.push({ label: '@' + r.name, insert: '@' + r.name, code: '<@&' + r.id + '>' });
			}
			if (can(c.id, P.MENTION_EVERYONE)) {
				for (const w of ['everyone', 'here']) if (w.startsWith(q)) out.push({ label: '@' + w, sub: w === 'here' ? 'Notify everyone online' : 'Notify everyone', insert: '@' + w });
			}
		}
		return out.slice(0, 10);
	}

	drawAC() {
		const items = this.acItems;
		this.ac.hidden = !items.length;
		this.ac.replaceChildren();
		this.input.setAttribute('aria-expanded', items.length ? 'true' : 'false');
		items.forEach((it, i) => {
			const row = h('div', { class: 'acitem' + (i === this.acIndex ? ' on' : ''), role: 'option', id: 'ac-' + i, 'aria-selected': i === this.acIndex ? 'true' : 'false',
				onmousedown: (e) => { e.preventDefault(); this.acIndex = i; this.acPick(); } },
			h('span', { class: 'aclabel' }, it.user ? avatar(it.user, 24) : null, it.label), it.sub ? h('span', { class: 'sub' }, it.sub) : null);
			this.ac.append(row);
		});
		if (items.length) this.input.setAttribute('aria-activedescendant', 'ac-' + this.acIndex);
		else this.input.removeAttribute('aria-activedescendant');
	}

	acKeys(e) {
		const n = this.acItems.length;
		if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
			this.acIndex = (this.acIndex + (e.key === 'ArrowDown' ? 1 : n - 1)) % n;
			this.drawAC();
		} else if (e.key === 'Enter' || e.key === 'Tab') {
			this.acPick();
		} else if (e.key === 'Escape') {
			this.acItems = [];
			this.drawAC();
		} else return false;
		e.preventDefault();
		return true;
	}

	acPick() {
		const it = this.acItems[this.acIndex];
		const a = this.input;
		const end = a.selectionStart;
		a.setRangeText(it.insert + (it.glue ? '' : ' '), end - this.acWord.length, end, 'end');
		if (it.code) this.mentions.set(it.insert, it.code);
		this.acItems = [];
		this.drawAC();
		this.changed();
	}
}

export function dmName(c) {
	if (!c) return '';
	if (c.name) return c.name;
	return (c.recipients || []).map((u) => u.global_name || u.username).join(', ') || 'Empty group';
}
