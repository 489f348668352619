// The message pane: a channel's history as a window of at most maxNodes
// messages over its timeline. Scrolling towards either end renders the
// next stretch there and drops as many at the other end, keeping the
// message in view where it was, and fetches older pages when the window
// reaches the oldest message held. The DOM stays bounded however far back
// a person scrolls.

import * as api from './api.js';
import * as commands from './commands.js';
import { dmName } from './composer.js';
import { avatar, displayName, h, icon, icons, nonce } from './dom.js';
import * as emoji from './emoji.js';
import * as history from './history.js';
import * as render from './message.js';
import * as modal from './modal.js';
import { P, can } from './perms.js';
import * as state from './state.js';
import * as unread from './unread.js';

const maxNodes = 150;
const step = 50;
// The first drawing of a channel: enough to fill a tall screen, few enough
// to paint at once; the rest follows as the person scrolls.
const first = 30;
// How close to an end, in pixels, the next stretch is rendered.
const margin = 800;

export class MessagePane {
	// app gives openChannel(id), profile(userID, anchor) and composer hooks.
	constructor(app) {
		this.app = app;
		this.channel = null;
		this.tl = null;
		this.lo = 0;
		this.hi = 0;
		this.stuck = true;
		this.busy = false;
		this.top = h('div', { class: 'histtop' });
		this.list = h('div', { class: 'list' });
		this.scroller = h('div', { class: 'scroller', tabindex: '0' }, this.top, this.list);
		this.jump = h('button', { class: 'jumpbar', hidden: true, onclick: () => this.present() }, 'You’re viewing older messages', h('span', {}, 'Jump to present'));
		this.el = h('div', { class: 'messages' }, this.scroller, this.jump);
		let queued = false;
		this.scroller.addEventListener('scroll', () => {
			if (queued) return;
			queued = true;
			requestAnimationFrame(() => {
				queued = false;
				this.check();
			});
		}, { passive: true });
		// Images and fonts that load late grow the list: stay at the bottom.
		new ResizeObserver(() => {
			if (this.stuck) this.toBottom();
		}).observe(this.list);
		this.list.addEventListener('click', (e) => {
			const u = e.target.closest('[data-user]');
			if (u) this.app.profile(u.dataset.user, u);
		});
		this.list.addEventListener('keydown', (e) => this.keys(e));
		this.list.addEventListener('mouseover', (e) => this.toolbar(e.target));
		this.list.addEventListener('focusin', (e) => this.toolbar(e.target));
		this.list.addEventListener('mouseleave', () => {
			if (this.bar && !this.bar.contains(document.activeElement)) this.bar.remove();
		});
		addEventListener('focus', () => this.markRead());
		document.addEventListener('visibilitychange', () => this.markRead());
	}

	// open shows a channel, at its newest messages or around one message.
	async open(channelID, around) {
		this.channel = channelID;
		const c = state.channels.get(channelID);
		this.ctx = this.context(c);
		this.tl = history.timeline(channelID);
		this.unreadAfter = unread.unread(channelID) ? unread.lastRead(channelID) : '';
		this.ctx.unreadAfter = this.unreadAfter;
		this.list.replaceChildren();
		this.top.replaceChildren(h('div', { class: 'loading', role: 'status' }, 'Loading messages…'));
		this.jump.hidden = true;
		try {
			if (around) {
				if (this.tl.find(around) < 0) await this.tl.around(around);
			} else if (!this.tl.end || !this.tl.msgs.length) {
				await this.tl.latest();
			}
		} catch (err) {
			if (this.channel === channelID) this.top.replaceChildren(h('div', { class: 'loaderr', role: 'alert' }, 'Messages could not be loaded: ' + (err.text || err)));
			return;
		}
		if (this.channel !== channelID) return;
		const n = this.tl.msgs.length;
		const at = around ? Math.max(0, this.tl.find(around)) : n;
		this.lo = Math.max(0, Math.min(at - first, n - first));
		this.hi = Math.min(n, at + first);
		this.drawAll();
		if (around) this.reveal(around);
		else this.toBottom();
		// More history once the first screen has painted.
		requestAnimationFrame(() => setTimeout(() => this.check()));
	}

	// close leaves the channel: nothing is read while the pane is away.
	close() {
		this.channel = null;
		this.tl = null;
		this.list.replaceChildren();
	}

	context(c) {
		const guildID = c && c.guild_id;
		const my = state.me.user.id;
		// The apps offered on the channel's messages are fetched ahead.
		if (c) commands.index(c.id, () => {});
		return {
			guildID,
			me: my,
			resolve: render.resolver(guildID, (id) => this.app.openChannel(id)),
			canSend: can(c.id, P.SEND_MESSAGES),
			canManage: !!guildID && can(c.id, P.MANAGE_MESSAGES),
			mentionsMe: unread.mentionsMe,
			reply: (m) => this.app.composer.replyTo(m),
			edit: (m) => this.edit(m),
			remove: (m, now) => this.remove(m, now),
			react: (m, e, add) => this.react(m, e, add),
			pin: (m, on) => this.pin(m, on),
			pickReaction: (m, anchor) => emoji.pick(anchor, (e) => this.react(m, e, true)),
			jump: (id) => this.jumpTo(id),
			retry: (m) => this.retry(m),
			discard: (m) => this.settle(this.tl, m.id, null),
		};
	}

	// toolbar puts the actions on the message holding el.
	toolbar(el) {
		const n = el.closest && el.closest('.msg');
		if (!n || (this.bar && this.bar.parentNode === n)) return;
		if (this.bar) this.bar.remove();
		const i = this.tl.find(n.dataset.id);
		const m = this.tl.msgs[i];
		if (!m || m.pending || m.failed || m.flags & render.ephemeral) return;
		this.bar = render.actions(m, this.ctx);
		n.append(this.bar);
	}

	node(i) {
		return render.render(this.tl.msgs[i], this.tl.msgs[i - 1], this.ctx);
	}

	drawAll() {
		const nodes = [];
		for (let i = this.lo; i < this.hi; i++) nodes.push(this.node(i));
		this.list.replaceChildren(...nodes);
		this.drawTop();
	}

	drawTop() {
		const c = state.channels.get(this.channel);
		if (this.lo === 0 && this.tl.start && c && c.type === 1 && c.recipients && c.recipients[0]) {
			// A DM begins with the other person, as on Discord.
			const u = c.recipients[0];
			this.top.replaceChildren(h('div', { class: 'welcome' }, avatar(u, 80), h('h3', {}, displayName(u)),
				h('p', {}, 'This is the beginning of your direct message history with ' + displayName(u) + '.')));
		} else if (this.lo === 0 && this.tl.start && c && c.guild_id) {
			this.top.replaceChildren(h('div', { class: 'welcome' }, h('div', { class: 'wicon' }, icon(icons.hash, 40)),
				h('h3', {}, 'Welcome to #' + c.name + '!'), h('p', {}, 'This is the start of #' + c.name + '.')));
		} else if (this.lo === 0 && this.tl.start) {
			// A group DM begins with its name, as on Discord.
			const name = c ? dmName(c) : 'this conversation';
			this.top.replaceChildren(h('div', { class: 'welcome' }, h('div', { class: 'wicon' }, icon(icons.people, 40)),
				h('h3', {}, name), h('p', {}, 'Welcome to the beginning of the ' + name + ' group.')));
		} else {
			this.top.replaceChildren(h('div', { class: 'loading', role: 'status' }, 'Loading older messages…'));
		}
	}

	// redraw renders the window again, keeping what is in view in place.
	redraw() {
		this.hi = Math.min(this.hi, this.tl.msgs.length);
		this.lo = Math.min(this.lo, this.hi);
		this.anchored(() => this.drawAll());
	}

	// anchored runs fn, then scrolls so that the first message in view
	// before stays where it was.
	anchored(fn) {
		const s = this.scroller;
		let anchor = null;
		let offset = 0;
		for (const n of this.list.children) {
			if (n.offsetTop + n.offsetHeight > s.scrollTop) {
				anchor = n.dataset.id;
				offset = n.offsetTop - s.scrollTop;
				break;
			}
		}
		fn();
		const n = anchor && this.list.querySelector(`[data-id="${anchor}"]`);
		if (this.stuck) this.toBottom();
		else if (n) s.scrollTop = n.offsetTop - offset;
	}

	toBottom() { this.scroller.scrollTop = this.scroller.scrollHeight; }

	// check renders or fetches whatever the scroll position calls for.
	async check() {
		if (!this.tl || this.busy) return;
		const s = this.scroller;
		const fromBottom = s.scrollHeight - s.scrollTop - s.clientHeight;
		const atEnd = this.hi === this.tl.msgs.length && this.tl.end;
		this.stuck = atEnd && fromBottom < 4;
		this.jump.hidden = atEnd || fromBottom > 0 && this.hi === this.tl.msgs.length && this.tl.end;
		if (s.scrollTop < margin) await this.up();
		else if (fromBottom < margin) await this.down();
		this.markRead();
	}

	async up() {
		const ch = this.channel;
		if (this.lo > 0) {
			this.anchored(() => {
				const from = Math.max(0, this.lo - step);
				const nodes = [];
				for (let i = from; i < this.lo; i++) nodes.push(this.node(i));
				this.list.prepend(...nodes);
				this.lo = from;
				while (this.hi - this.lo > maxNodes) {
					this.list.lastElementChild.remove();
					this.hi--;
				}
				this.drawTop();
			});
		} else if (!this.tl.start) {
			this.busy = true;
			let n = 0;
			try {
				n = await this.tl.older();
			} catch {
				n = 0; // tried again on the next scroll
			}
			this.busy = false;
			if (ch !== this.channel) return;
			this.lo += n;
			this.hi += n;
			// The first message drawn now has a predecessor: its grouping
			// and date line may change.
			if (n && this.hi > this.lo) this.anchored(() => this.list.firstElementChild.replaceWith(this.node(this.lo)));
			if (!n) this.drawTop();
		} else return;
		requestAnimationFrame(() => this.check());
	}

	async down() {
		const ch = this.channel;
		if (this.hi < this.tl.msgs.length) {
			this.anchored(() => {
				const to = Math.min(this.tl.msgs.length, this.hi + step);
				const nodes = [];
				for (let i = this.hi; i < to; i++) nodes.push(this.node(i));
				this.list.append(...nodes);
				this.hi = to;
				while (this.hi - this.lo > maxNodes) {
					this.list.firstElementChild.remove();
					this.lo++;
				}
				this.drawTop();
			});
		} else if (!this.tl.end) {
			this.busy = true;
			try {
				await this.tl.newer();
			} catch { /* tried again on the next scroll */ }
			this.busy = false;
			if (ch !== this.channel) return;
		} else return;
		requestAnimationFrame(() => this.check());
	}

	// present jumps to the newest messages.
	async present() {
		if (!this.tl.end) await this.tl.latest();
		this.hi = this.tl.msgs.length;
		this.lo = Math.max(0, this.hi - step);
		this.stuck = true;
		this.drawAll();
		this.toBottom();
		this.jump.hidden = true;
	}

	async jumpTo(id) {
		const i = this.tl.find(id);
		if (i < 0) {
			await this.open(this.channel, id);
			return;
		}
		if (i < this.lo || i >= this.hi) {
			this.lo = Math.max(0, i - step);
			this.hi = Math.min(this.tl.msgs.length, i + step);
			this.drawAll();
		}
		this.reveal(id);
	}

	reveal(id) {
		const n = this.list.querySelector(`[data-id="${id}"]`);
		if (!n) return;
		this.stuck = false;
		n.scrollIntoView({ block: 'center' });
		n.classList.add('flash');
		setTimeout(() => n.classList.remove('flash'), 1500);
		n.focus({ preventScroll: true });
	}

	markRead() {
		if (!this.tl || !this.stuck || document.visibilityState !== 'visible' || !document.hasFocus()) return;
		const last = this.tl.msgs[this.tl.msgs.length - 1];
		if (last && !last.pending && !last.failed) unread.markRead(this.channel, last.id);
	}

	// dispatch applies a gateway event about messages to held timelines
	// and, for the open channel, to the window.
	dispatch(t, d) {
		const tl = history.held(d.channel_id);
		if (!tl) return;
		const open = d.channel_id === this.channel && tl === this.tl;
		switch (t) {
		case 'MESSAGE_CREATE': {
			if (d.author.id === state.me.user.id) {
				// Our own message, back before the POST answered: it
				// takes the pending copy's place.
				const p = tl.msgs.find((m) => m.pending && m.content === d.content);
				if (p) {
					this.settle(tl, p.id, d);
					return;
				}
			}
			const wasEnd = this.hi === tl.msgs.length;
			const i = tl.add(d);
			if (!open || i < 0) return;
			if (wasEnd && i >= this.lo) {
				this.hi = tl.msgs.length;
				this.anchored(() => {
					this.drawRange(i);
					while (this.stuck && this.hi - this.lo > maxNodes) {
						this.list.firstElementChild.remove();
						this.lo++;
					}
				});
			} else if (i < this.lo) {
				this.lo++;
				this.hi++;
			} else this.jump.hidden = false;
			this.markRead();
			break;
		}
		case 'MESSAGE_UPDATE': {
			const i = tl.find(d.id);
			if (i < 0) return;
			tl.msgs[i] = Object.assign(tl.msgs[i], d);
			if (open) this.redrawOne(i);
			break;
		}
		case 'MESSAGE_DELETE':
		case 'MESSAGE_DELETE_BULK':
			for (const id of d.ids || [d.id]) {
				const i = tl.remove(id);
				if (!open || i < 0) continue;
				if (i < this.lo) {
					this.lo--;
					this.hi--;
				} else if (i < this.hi) {
					this.hi--;
					this.anchored(() => {
						this.list.children[i - this.lo].remove();
						this.redrawOne(i);
					});
				}
			}
			// Replies to a deleted message say so.
			for (const m of tl.msgs) {
				if (m.referenced_message && (d.ids || [d.id]).includes(m.referenced_message.id)) {
					m.referenced_message = null;
					if (open) this.redrawOne(tl.find(m.id));
				}
			}
			break;
		default: {
			const m = history.reaction(t, d);
			if (m && open) this.redrawOne(tl.find(m.id));
		}
		}
	}

	// settle replaces a message sent from here (localID) with what the node
	// made of it, or drops it (real null). Local messages live only at the
	// newest end, where the window is while they exist.
	settle(tl, localID, real) {
		const atEnd = tl === this.tl && this.hi >= tl.msgs.length;
		const a = tl.remove(localID);
		const b = real ? tl.add(real) : -1;
		if (tl !== this.tl || (a < 0 && b < 0)) return;
		if (atEnd) this.hi = tl.msgs.length;
		const from = Math.min(...[a, b].filter((x) => x >= 0));
		if (from < this.lo) this.redraw();
		else this.anchored(() => this.drawRange(from));
		this.markRead();
	}

	// drawRange renders messages from index i to the window's end again.
	drawRange(i) {
		const keep = i - this.lo;
		while (this.list.children.length > keep) this.list.lastElementChild.remove();
		for (let j = i; j < this.hi; j++) this.list.append(this.node(j));
		if (this.stuck) this.toBottom();
	}

	redrawOne(i) {
		if (i < this.lo || i >= this.hi) return;
		const old = this.list.children[i - this.lo];
		if (old) this.anchored(() => old.replaceWith(this.node(i)));
	}

	// send shows the message at once as pending, posts it, and turns it
	// into the real one, or into a failed one with Retry.
	async send(content, files, reply) {
		if (!this.tl.end) await this.present();
		const me = state.me.user;
		const m = {
			id: nonce(), channel_id: this.channel, author: me, content, pending: true,
			attachments: files.map((f) => ({ filename: f.name, size: f.size, content_type: f.type })),
			message_reference: reply ? { message_id: reply.id } : null, referenced_message: reply || null,
			files, reply,
		};
		m.nonce = m.id;
		this.stuck = true;
		this.addLocal(m);
		await this.post(m);
	}

	addLocal(m) {
		const i = this.tl.add(m);
		if (i < 0) return;
		this.hi = this.tl.msgs.length;
		this.anchored(() => this.drawRange(i));
	}

	async post(m) {
		const body = { content: m.content, nonce: m.nonce };
		if (m.reply) body.message_reference = { message_id: m.reply.id, fail_if_not_exists: false };
		let payload = body;
		if (m.files.length) {
			payload = new FormData();
			payload.append('payload_json', JSON.stringify(body));
			m.files.forEach((f, i) => payload.append(`files[${i}]`, f, f.name));
		}
		const tl = this.tl;
		try {
			const got = await api.post(`/channels/${m.channel_id}/messages`, payload);
			if (tl.find(m.id) >= 0) this.settle(tl, m.id, got);
		} catch (err) {
			m.pending = false;
			m.failed = err.text || String(err);
			const i = tl.find(m.id);
			if (i >= 0 && tl === this.tl) this.redrawOne(i);
		}
	}

	retry(m) {
		this.settle(this.tl, m.id, null);
		m.failed = null;
		m.pending = true;
		m.id = nonce();
		m.nonce = m.id;
		this.addLocal(m);
		this.post(m);
	}

	edit(m) {
		const i = this.tl.find(m.id);
		const n = i >= 0 && this.list.children[i - this.lo];
		const text = n && n.querySelector('.text');
		if (!text) return;
		const area = h('textarea', { class: 'editbox', value: m.content, 'aria-label': 'Edit message', rows: 1 });
		const done = () => this.redrawOne(this.tl.find(m.id));
		area.addEventListener('keydown', async (e) => {
			if (e.key === 'Escape') {
				e.preventDefault();
				done();
				this.app.composer.focus();
			} else if (e.key === 'Enter' && !e.shiftKey) {
				e.preventDefault();
				const content = area.value.trim();
				if (content === m.content) return done();
				if (!content) return this.remove(m, false);
				area.disabled = true;
				try {
					const got = await api.patch(`/channels/${m.channel_id}/messages/${m.id}`, { content });
					Object.assign(m, got);
					done();
					this.app.composer.focus();
				} catch (err) {
					area.disabled = false;
					hint.textContent = 'Not saved: ' + (err.text || err);
				}
			}
		});
		const hint = h('div', { class: 'edithint' }, 'escape to cancel • enter to save');
		text.replaceWith(h('div', { class: 'editing' }, area, hint));
		area.style.height = area.scrollHeight + 'px';
		area.focus();
		area.setSelectionRange(area.value.length, area.value.length);
	}

	async remove(m, now) {
		if (!now && !(await modal.confirm('Delete message', 'Are you sure you want to delete this message?', 'Delete'))) return;
		try {
			await api.del(`/channels/${m.channel_id}/messages/${m.id}`);
		} catch (err) {
			modal.confirm('Not deleted', err.text || String(err), 'OK', false);
		}
	}

	async pin(m, on) {
		const path = `/channels/${m.channel_id}/pins/${m.id}`;
		try {
			await (on ? api.put(path) : api.del(path));
			m.pinned = on;
			this.redrawOne(this.tl.find(m.id));
		} catch (err) {
			modal.confirm('Not pinned', err.text || String(err), 'OK', false);
		}
	}

	async react(m, e, add) {
		const path = `/channels/${m.channel_id}/messages/${m.id}/reactions/${encodeURIComponent(e)}/@me`;
		try {
			await (add ? api.put(path) : api.del(path));
		} catch (err) {
			modal.confirm('Reaction failed', err.text || String(err), 'OK', false);
		}
	}

	// lastOwn is the newest message the person may edit, for ↑ in an empty
	// composer.
	lastOwn() {
		for (let i = this.tl.msgs.length - 1; i >= Math.max(0, this.tl.msgs.length - 50); i--) {
			const m = this.tl.msgs[i];
			if (m.author.id === state.me.user.id && !m.pending && !m.failed) return m;
		}
		return null;
	}

	editLast() {
		const m = this.lastOwn();
		if (!m) return false;
		if (this.tl.find(m.id) >= this.hi) this.present();
		this.edit(m);
		return true;
	}

	// keys moves between messages with the arrow keys, as a feed.
	keys(e) {
		const cur = e.target.closest('.msg');
		if (!cur || e.target !== cur) return;
		let next = null;
		if (e.key === 'ArrowUp') next = cur.previousElementSibling;
		else if (e.key === 'ArrowDown') next = cur.nextElementSibling;
		else if (e.key === 'Escape') return this.app.composer.focus();
		else return;
		e.preventDefault();
		if (next) {
			next.focus();
			next.scrollIntoView({ block: 'nearest' });
		}
	}
}
