// The signed-in client: the layout (rail, sidebar, pane, members), which
// guild and channel are open (kept in the URL, as Discord's
// /channels/<guild>/<channel>), the connection banner, and the wiring from
// gateway dispatches to the screens.

import * as api from './api.js';
import { avatar, clear, displayName, h, icon, icons, toast } from './dom.js';
import { Channels } from './channels.js';
import * as commands from './commands.js';
import { Composer, dmName } from './composer.js';
import * as friends from './friends.js';
import { Gateway } from './gateway.js';
import * as history from './history.js';
import * as manage from './manage.js';
import * as md from './markdown.js';
import * as modal from './modal.js';
import { resolver } from './message.js';
import { MessagePane } from './messages.js';
import { Members, profile } from './members.js';
import * as notify from './notify.js';
import { Rail } from './rail.js';
import * as search from './search.js';
import * as settings from './settings.js';
import * as state from './state.js';
import * as unread from './unread.js';
import * as voice from './voice.js';

const messageEvents = new Set(['MESSAGE_CREATE', 'MESSAGE_UPDATE', 'MESSAGE_DELETE', 'MESSAGE_DELETE_BULK',
	'MESSAGE_REACTION_ADD', 'MESSAGE_REACTION_REMOVE', 'MESSAGE_REACTION_REMOVE_ALL', 'MESSAGE_REACTION_REMOVE_EMOJI']);

export class App {
	constructor(root, onSignOut) {
		this.root = root;
		this.onSignOut = onSignOut;
		this.guildID = '@me';
		this.channelID = null;
		this.ready = false;
		this.rail = new Rail(this);
		this.channels = new Channels(this);
		this.pane = new MessagePane(this);
		this.composer = new Composer(this.pane);
		this.members = new Members(this);
		this.userPanel = h('section', { class: 'userpanel', 'aria-label': 'You' });
		this.banner = h('div', { class: 'connection', role: 'status', 'aria-live': 'polite', hidden: true });
		this.title = h('div', { class: 'chtitle' });
		this.tools = h('div', { class: 'chtools' });
		this.body = h('div', { class: 'panebody' });
		const navBtn = h('button', { class: 'navbtn', 'aria-label': 'Show channels', onclick: () => this.toggle('shownav') }, icon(icons.menu, 22));
		this.stage = h('section', { class: 'stage', 'aria-label': 'Video', hidden: true });
		// On a phone the voice panel is in the drawer: the header shows the call.
		this.callPill = h('div', { class: 'callpill', hidden: true });
		this.main = h('main', { class: 'pane', 'aria-label': 'Conversation' },
			h('header', { class: 'chhead' }, navBtn, this.title, this.callPill, this.tools), this.banner, this.stage, this.body);
		this.composer.dropTarget(this.main);
		this.voicePanel = h('section', { class: 'voicepanel', 'aria-label': 'Voice connection', hidden: true });
		this.sidebar = h('div', { class: 'sidebar' }, this.channels.el, this.voicePanel, this.userPanel);
		this.shade = h('div', { class: 'shade', onclick: () => this.toggle(null) });
		this.layout = h('div', { class: 'layout' }, h('div', { class: 'nav' }, this.rail.el, this.sidebar), this.main, this.members.el, this.shade);
		clear(root, this.layout);
		root.className = '';
		this.gateway = new Gateway((t, d) => this.dispatch(t, d), (s, n) => this.connection(s, n), () => this.onSignOut('Your session has ended. Log in again to go on.'));
		state.on('me', () => this.drawUser());
		state.on('presence', (id) => {
			if (state.me.user && id === state.me.user.id) this.drawUser();
		});
		state.on('dms', () => {
			if (this.channelID && !state.channels.has(this.channelID)) this.openGuild('@me');
		});
		state.on('guilds', () => {
			if (this.guildID !== '@me' && !state.guilds.has(this.guildID) && this.ready) this.openGuild('@me');
		});
		state.on('channel', (id) => {
			if (id === this.channelID) {
				this.drawHeader();
				this.composer.permissions();
			}
		});
		for (const t of ['guild', 'members']) {
			state.on(t, (gid) => {
				if (gid === this.guildID && this.channelID) this.composer.permissions();
			});
		}
		// Window listeners go with the app when the person signs out.
		this.aborts = new AbortController();
		addEventListener('popstate', () => this.route(), { signal: this.aborts.signal });
		addEventListener('keydown', (e) => this.shortcuts(e), { signal: this.aborts.signal });
		this.connection('connecting', 0);
		this.gateway.start();
		// The channel in the URL loads while the gateway connects.
		const m = /^\/channels\/(?:@me|\d+)\/(\d+)$/.exec(location.pathname);
		if (m) history.timeline(m[1]).latest().catch(() => {});
	}

	stop() {
		this.aborts.abort();
		voice.stop();
		this.gateway.stop();
		this.pane.close();
		state.reset();
		history.reset();
		commands.reset();
	}

	dispatch(t, d) {
		state.apply(t, d);
		if (messageEvents.has(t)) this.pane.dispatch(t, d);
		else if (t.startsWith('INTERACTION_') || t === 'APPLICATION_COMMAND_AUTOCOMPLETE_RESPONSE') commands.dispatch(t, d);
		switch (t) {
		case 'READY':
			if (this.ready) {
				// A new session after one that could not resume: what
				// happened in between was not replayed, so the timelines
				// held are stale. The guild's GUILD_CREATE (or, at home,
				// this) opens the channel afresh.
				history.reset();
				if (this.guildID === '@me') this.route();
			}
			unread.load(state.me.user.id);
			settings.loaded(this);
			friends.load();
			break;
		case 'GUILD_CREATE':
			if (!this.ready) {
				if ([...state.guilds.values()].every((g) => !g.unavailable)) this.start();
			} else if (d.id === this.guildID) this.route();
			break;
		case 'MESSAGE_CREATE':
			this.arrived(d);
			break;
		case 'VOICE_SERVER_UPDATE':
		case 'VOICE_STATE_UPDATE':
			voice.dispatch(this, t, d);
			break;
		case 'GUILD_MEMBER_ADD':
			// The node sends no presence for someone who just joined: ask.
			this.gateway.requestMembers(d.guild_id, [d.user.id]);
			break;
		}
		if (t === 'READY' && ![...state.guilds.values()].some((g) => g.unavailable)) this.start();
	}

	// start draws the layout once READY and every GUILD_CREATE are in.
	start() {
		if (this.ready) return;
		this.ready = true;
		this.drawUser();
		this.route();
		manage.pendingInvite(this);
	}

	// arrived counts unread and mentions for a message that is not in view,
	// and notifies when it mentions the person.
	arrived(m) {
		const inView = m.channel_id === this.channelID && document.visibilityState === 'visible' && document.hasFocus() && this.pane.stuck;
		const dm = !m.guild_id;
		if (m.author.id !== state.me.user.id && (unread.mentionsMe(m) || dm)) {
			if (!inView) unread.mentioned(m.channel_id);
			if (!inView || document.hidden) {
				const c = state.channels.get(m.channel_id);
				const where = c ? (c.guild_id ? '#' + c.name : dmName(c)) : '';
				notify.show(`${state.nameIn(m.guild_id, m.author)} (${where})`, md.plain(m.content, resolver(m.guild_id)), m.channel_id, () => this.openChannel(m.channel_id));
			}
		}
		state.emit('unread', m.channel_id);
	}

	connection(s, attempts) {
		const text = {
			connecting: 'Connecting…',
			reconnecting: attempts > 1 ? `Reconnecting… (attempt ${attempts})` : 'Reconnecting…',
			offline: 'You are offline. Concord reconnects when the network is back.',
			failed: 'The node refused the connection. Reload the page.',
		}[s];
		this.banner.hidden = s === 'connected';
		this.banner.className = 'connection ' + s;
		this.banner.textContent = text || '';
		document.documentElement.dataset.connection = s;
	}

	drawUser() {
		const u = state.me.user;
		if (!u) return;
		const st = state.presences.get(u.id) || settings.status();
		const who = h('button', { class: 'me', 'aria-label': 'Set status, now ' + st, onclick: (e) => settings.statusMenu(this, e.currentTarget) },
			avatar(u, 32, st), h('span', { class: 'names' }, h('span', { class: 'dname' }, displayName(u)), h('span', { class: 'uname' }, settings.customText() || u.username)));
		clear(this.userPanel, who, voice.controls(this),
			h('button', { class: 'iconbtn', 'aria-label': 'User settings', title: 'User settings', onclick: () => settings.open(this) }, icon(icons.gear, 20)));
	}

	// route opens what the URL names.
	route() {
		const m = /^\/channels\/(@me|\d+)(?:\/(\d+))?(?:\/(\d+))?/.exec(location.pathname);
		let g = m ? m[1] : '@me';
		let c = m && m[2];
		if (g !== '@me' && !state.guilds.has(g)) {
			g = '@me';
			c = null;
		}
		// A voice channel or a category has no message pane: its guild
		// opens instead, as a click on a voice channel joins it and opens
		// nothing.
		if (c && (!state.channels.has(c) || !manage.hasPane(state.channels.get(c)))) c = null;
		this.show(g, c, m && m[3]);
	}

	go(g, c, around) {
		const path = '/channels/' + g + (c ? '/' + c : '');
		if (location.pathname !== path) history_.pushState(null, '', path);
		this.show(g, c, around);
	}

	// jump opens a channel at one of its messages.
	jump(cid, mid) {
		const c = state.channels.get(cid);
		if (!c) return;
		if (cid === this.channelID) this.pane.jumpTo(mid);
		else this.go(c.guild_id || '@me', cid, mid);
	}

	show(g, c, around) {
		if (g !== '@me' && !c) c = manage.firstChannel(g, localStorage.getItem('concord.last.' + g));
		this.guildID = g;
		this.channelID = c || null;
		if (c && g !== '@me') localStorage.setItem('concord.last.' + g, c);
		const path = '/channels/' + g + (c ? '/' + c : '');
		if (location.pathname !== path) history_.replaceState(null, '', path);
		this.layout.classList.toggle('home', g === '@me');
		this.rail.draw();
		this.channels.draw();
		this.drawHeader();
		if (c) {
			clear(this.body, this.pane.el, this.composer.el);
			this.composer.open(c);
			this.pane.open(c, around);
			this.composer.focus();
		} else if (g === '@me') {
			this.pane.close();
			friends.show(this, this.body);
		} else {
			this.pane.close();
			clear(this.body, h('div', { class: 'empty' }, h('p', {}, 'No text channels here yet.')));
		}
		this.members.draw();
		this.layout.classList.remove('shownav', 'showmembers');
		const g_ = state.guilds.get(g);
		if (g_ && !g_.membersLoaded && !g_.membersAsked) {
			g_.membersAsked = true;
			this.gateway.requestMembers(g);
		}
		document.title = (c ? (state.channels.get(c).guild_id ? '#' + state.channels.get(c).name : dmName(state.channels.get(c))) + ' – ' : '') + 'Concord';
	}

	drawHeader() {
		const c = this.channelID && state.channels.get(this.channelID);
		if (!c) {
			clear(this.title, icon(icons.people, 22), h('h1', {}, 'Friends'));
			clear(this.tools);
			return;
		}
		const dm = !c.guild_id;
		clear(this.title, icon(c.type === 1 ? icons.at : dm ? icons.people : icons.hash, 22), h('h1', {}, dm ? dmName(c) : c.name),
			c.topic ? h('span', { class: 'topic', title: c.topic }, c.topic) : null);
		const tools = [];
		if (!dm) tools.push(search.box(this));
		tools.push(h('button', { class: 'iconbtn', 'aria-label': 'Pinned messages', title: 'Pinned messages', onclick: (e) => search.pins(this, e.currentTarget) }, icon(icons.pin, 22)));
		if (!dm || c.type === 3) {
			tools.push(h('button', { class: 'iconbtn membersbtn', 'aria-label': 'Show member list', title: 'Member list', onclick: () => this.toggle('showmembers') }, icon(icons.people, 22)));
		}
		if (c.type === 3) {
			tools.push(h('button', { class: 'iconbtn addbtn', 'aria-label': 'Add friends to the group', title: 'Add friends', onclick: () => friends.addToGroup(c) }, icon(icons.plus, 22)),
				h('button', { class: 'iconbtn leavebtn', 'aria-label': 'Leave group', title: 'Leave group', onclick: () => this.leaveGroup(c) }, icon(icons.leave, 22)));
		}
		clear(this.tools, tools);
	}

	// leaveGroup leaves a group DM once the user confirms.
	async leaveGroup(c) {
		if (!(await modal.confirm('Leave ' + dmName(c), 'You will not get its messages any more, and only a member can add you back.', 'Leave Group'))) return;
		try {
			await api.del('/channels/' + c.id);
			state.apply('CHANNEL_DELETE', { id: c.id, type: 3 });
		} catch (x) {
			toast(x.text, 'error');
		}
	}

	// toggle shows the sidebar or the members over the pane on narrow
	// screens, and hides the members on wide ones.
	toggle(what) {
		const l = this.layout.classList;
		const on = what && !l.contains(what);
		l.remove('shownav', 'showmembers');
		if (what === 'showmembers' && innerWidth > 1100) {
			l.toggle('nomembers');
			return;
		}
		if (on) l.add(what);
	}

	openGuild(id) {
		if (id === '@me') this.go('@me', null);
		else this.go(id, null);
	}

	openChannel(id) {
		const c = state.channels.get(id);
		if (!c) return;
		this.go(c.guild_id || '@me', id);
	}

	openFriends() { this.go('@me', null); }
	openVoice(id) { voice.join(this, id); }
	profile(userID, anchor) { profile(this, userID, anchor); }

	async openDM(userID) {
		const c = await manage.dm(userID);
		if (c) this.openChannel(c.id);
	}

	addGuild() { manage.addGuild(this); }
	invite(gid) { manage.invite(this, gid); }
	createChannel(gid, parent, type) { manage.createChannel(gid, parent, type); }
	leaveGuild(gid) { manage.leave(gid); }
	nickname(gid) { manage.nickname(gid); }
	memberRoles(gid, uid) { manage.memberRoles(gid, uid); }
	timeout(gid, uid) { manage.timeout(gid, uid); }
	moderateVoice(gid, uid, change) { manage.voice(gid, uid, change); }
	moveVoice(gid, uid) { manage.moveVoice(gid, uid); }
	kick(gid, uid) { manage.kick(gid, uid); }
	ban(gid, uid) { manage.ban(gid, uid); }
	guildSettings(gid) { manage.guildSettings(gid); }
	channelSettings(cid) { manage.channelSettings(cid); }
	newGroupDM() { friends.newGroup(this); }

	// shortcuts: Alt+↑/↓ moves between channels, Ctrl+K finds one, Escape
	// closes what is open over the pane.
	shortcuts(e) {
		if (e.altKey && (e.key === 'ArrowUp' || e.key === 'ArrowDown')) {
			const b = [...this.channels.list.querySelectorAll('.chan')];
			const i = b.findIndex((x) => x.classList.contains('active'));
			const n = b[i + (e.key === 'ArrowDown' ? 1 : -1)];
			if (n) n.click();
			e.preventDefault();
		} else if ((e.ctrlKey || e.metaKey) && e.key === 'k') {
			e.preventDefault();
			search.switcher(this);
		} else if (e.key === 'Escape' && this.layout.classList.contains('shownav')) {
			this.toggle(null);
		}
	}
}

// window.history, named apart from the timelines module.
const history_ = window.history;
