// Slash commands: a channel's commands offered as the person types "/",
// their options read from the composer's text ("/roll sides:20"), and the
// interactions the node relays to the bots — a command, the choices a bot
// suggests for an option as it is typed, a click or a pick on a
// component, a modal's submission — with the node's word on each
// (INTERACTION_SUCCESS or _FAILURE, the suggestions) and the modals bots
// answer with.

import * as api from './api.js';
import { nonce, toast } from './dom.js';
import * as modal from './modal.js';
import * as state from './state.js';

// The index of a channel's commands is fetched again when this old.
const indexAge = 30_000;
// How long a person waits for the node's word when the gateway is away.
const answerWait = 15_000;

const optionTypes = { subcommand: 1, group: 2, string: 3, integer: 4, boolean: 5, user: 6, channel: 7, role: 8, mentionable: 9, number: 10, attachment: 11 };

// Failed is a refusal worded for a person.
export class Failed extends Error {
	get text() { return this.message; }
}

const indexes = new Map(); // guild id (a DM's channel id) → {at, loading, list, all, apps}
const waiting = new Map(); // nonce → {body, ok, fail, timer}
const offered = new Map(); // command id + '/' + option name → the choices its bot last suggested

// index is what is known of the commands offered in a channel — its
// guild's, or a DM's: {list, all, apps}, list (the chat commands) null
// until the first fetch answers, which calls loaded; all holds the user
// and message commands too.
export function index(channelID, loaded) {
	const c = state.channels.get(channelID);
	const key = (c && c.guild_id) || channelID;
	let e = indexes.get(key);
	if (!e || (!e.loading && Date.now() - e.at > indexAge)) {
		const next = { at: Date.now(), loading: true, list: e ? e.list : null, all: e ? e.all : [], apps: e ? e.apps : new Map() };
		indexes.set(key, next);
		api.get(`/channels/${channelID}/application-command-index`).then((x) => {
			next.all = x.application_commands;
			next.list = next.all.filter((c) => c.type === 1);
			next.apps = new Map(x.applications.map((a) => [a.id, a]));
			loaded();
		}).catch(() => {
			next.list = next.list || [];
		}).finally(() => {
			next.loading = false;
		});
		e = next;
	}
	return e;
}

// reset forgets everything of the person who signs out.
export function reset() {
	for (const w of waiting.values()) clearTimeout(w.timer);
	for (const m of [indexes, waiting, offered]) m.clear();
}

// find is the command text invokes in a channel, with the text after its
// name, or null.
export function find(channelID, text) {
	const c = state.channels.get(channelID);
	const e = indexes.get((c && c.guild_id) || channelID);
	const m = /^\/(\S+)(?:\s+([\s\S]*))?$/.exec(text);
	if (!e || !e.list || !m) return null;
	const cmd = e.list.find((c) => c.name === m[1].toLowerCase());
	return cmd ? { cmd, app: e.apps.get(cmd.application_id), rest: m[2] || '' } : null;
}

// params are the options text may still name at its end: the
// subcommands to choose, or the parameters (left: those not yet given)
// under the subcommands chosen (path).
export function params(cmd, rest) {
	let defs = cmd.options || [];
	const words = rest.split(/\s+/).filter(Boolean);
	const path = [];
	while (defs.some(isSub)) {
		const i = path.length;
		const sub = i < words.length ? defs.find((o) => o.name === words[i].toLowerCase()) : null;
		if (!sub || i === words.length - 1 && !/\s$/.test(rest)) return { subs: defs.filter(isSub) };
		path.push(sub);
		defs = sub.options || [];
	}
	const given = new Set([...rest.matchAll(/(?:^|\s)([^\s:]+):/g)].map((m) => m[1].toLowerCase()));
	return { params: defs, left: defs.filter((o) => !given.has(o.name)), path };
}

function isSub(o) { return o.type === optionTypes.subcommand || o.type === optionTypes.group; }

// parse reads the options of an invocation from the text after the
// command's name: subcommands by name, then "name:value" pairs; text
// before the first pair goes to the first parameter not named.
export function parse(cmd, rest, guildID) {
	let defs = cmd.options || [];
	let text = rest.trim();
	const path = [];
	while (defs.some(isSub)) {
		const m = /^(\S+)\s*([\s\S]*)$/.exec(text);
		const sub = m && defs.find((o) => o.name === m[1].toLowerCase());
		if (!sub) throw new Failed(`/${cmd.name} needs one of: ${defs.map((o) => o.name).join(', ')}.`);
		path.push(sub);
		defs = sub.options || [];
		text = m[2];
	}
	const raw = new Map();
	if (defs.length) {
		const re = new RegExp('(^|\\s)(' + defs.map((o) => o.name.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')).join('|') + '):', 'gi');
		const marks = [...text.matchAll(re)];
		const lead = (marks.length ? text.slice(0, marks[0].index) : text).trim();
		marks.forEach((m, i) => {
			const start = m.index + m[0].length;
			raw.set(m[2].toLowerCase(), text.slice(start, i + 1 < marks.length ? marks[i + 1].index : text.length).trim());
		});
		if (lead) {
			const free = defs.find((o) => o.required && !raw.has(o.name)) || defs.find((o) => !raw.has(o.name));
			if (!free) throw new Failed(`/${cmd.name} does not take “${lead}”.`);
			raw.set(free.name, lead);
		}
	} else if (text) {
		throw new Failed(`/${cmd.name} takes no options.`);
	}
	let options = [];
	for (const o of defs) {
		const v = raw.get(o.name);
		if (v === undefined || v === '') {
			if (o.required) throw new Failed(`/${cmd.name} needs ${o.name}: ${o.description}`);
			continue;
		}
		options.push({ name: o.name, type: o.type, value: value(o, v, guildID, offered.get(cmd.id + '/' + o.name)) });
	}
	for (const sub of path.reverse()) options = [{ name: sub.name, type: sub.type, options }];
	return options;
}

// value turns what was typed for one option into what the bot gets: a
// choice's value for its name, be it the option's own choice or one its
// bot suggested.
function value(o, v, guildID, suggested) {
	if (o.choices && o.choices.length) {
		const c = o.choices.find((x) => x.name.toLowerCase() === v.toLowerCase() || String(x.value) === v);
		if (!c) throw new Failed(`${o.name} must be one of: ${o.choices.map((x) => x.name).join(', ')}.`);
		return c.value;
	}
	const pick = (suggested || []).find((x) => x.name.toLowerCase() === v.toLowerCase());
	if (pick) return pick.value;
	const g = state.guilds.get(guildID);
	switch (o.type) {
	case optionTypes.integer:
		if (!/^-?\d+$/.test(v)) throw new Failed(`${o.name} must be a whole number.`);
		return inRange(o, Number(v));
	case optionTypes.number:
		if (!Number.isFinite(Number(v))) throw new Failed(`${o.name} must be a number.`);
		return inRange(o, Number(v));
	case optionTypes.boolean:
		if (/^(true|yes|on)$/i.test(v)) return true;
		if (/^(false|no|off)$/i.test(v)) return false;
		throw new Failed(`${o.name} must be true or false.`);
	case optionTypes.user:
		return named(o, user(g, v));
	case optionTypes.channel:
		return named(o, channel(g, v));
	case optionTypes.role:
		return named(o, role(g, v));
	case optionTypes.mentionable:
		return named(o, user(g, v) || role(g, v));
	case optionTypes.attachment:
		throw new Failed(`${o.name}: files cannot be given to a command from this client.`);
	default:
		if (o.min_length && v.length < o.min_length) throw new Failed(`${o.name} must be at least ${o.min_length} characters.`);
		if (o.max_length && v.length > o.max_length) throw new Failed(`${o.name} must be at most ${o.max_length} characters.`);
		return v;
	}
}

function inRange(o, n) {
	if (o.min_value !== undefined && n < o.min_value) throw new Failed(`${o.name} must be at least ${o.min_value}.`);
	if (o.max_value !== undefined && n > o.max_value) throw new Failed(`${o.name} must be at most ${o.max_value}.`);
	return n;
}

function named(o, id) {
	if (!id) throw new Failed(`${o.name}: no such ${['user', 'channel', 'role', 'user or role'][o.type - optionTypes.user]} here.`);
	return id;
}

function user(g, v) {
	const m = /^<@!?(\d+)>$/.exec(v);
	if (m) return m[1];
	const name = v.replace(/^@/, '').toLowerCase();
	for (const mem of g ? g.members.values() : []) {
		const u = mem.user;
		if (u && (u.username === name || (mem.nick || '').toLowerCase() === name || (u.global_name || '').toLowerCase() === name)) return u.id;
	}
	return null;
}

function channel(g, v) {
	const m = /^<#(\d+)>$/.exec(v);
	if (m) return m[1];
	const name = v.replace(/^#/, '').toLowerCase();
	for (const c of g ? g.channels.values() : []) if (c.name.toLowerCase() === name) return c.id;
	return null;
}

function role(g, v) {
	const m = /^<@&(\d+)>$/.exec(v);
	if (m) return m[1];
	const name = v.replace(/^@/, '').toLowerCase();
	for (const r of g ? g.roles.values() : []) if (r.name.toLowerCase() === name) return r.id;
	return null;
}

// invoke runs a command found in the text in a channel; it resolves once
// the bot answered and throws Failed or an APIError otherwise.
export function invoke(found, channelID) {
	const c = state.channels.get(channelID);
	const options = parse(found.cmd, found.rest, c.guild_id);
	return interact({ type: 2, application_id: found.cmd.application_id, guild_id: c.guild_id, channel_id: channelID,
		data: { id: found.cmd.id, name: found.cmd.name, type: 1, options } });
}

// apps are the commands of one kind offered in a channel for a context
// menu: user (2) or message (3) commands.
export function apps(channelID, type) {
	return index(channelID, () => {}).all.filter((c) => c.type === type);
}

// appsMenu offers those commands as a menu next to anchor and runs the one
// picked on its target (a user's or a message's ID) in the channel.
export function appsMenu(anchor, channelID, type, targetID) {
	const c = state.channels.get(channelID);
	modal.menu(anchor, apps(channelID, type).map((cmd) => [cmd.name, () => {
		interact({ type: 2, application_id: cmd.application_id, guild_id: c && c.guild_id, channel_id: channelID,
			data: { id: cmd.id, name: cmd.name, type: cmd.type, target_id: targetID } })
			.catch((err) => toast(`${cmd.name}: ${err.text || err}`, 'error'));
	}]));
}

// suggestions are the choices the bot last suggested for an option.
export function suggestions(cmd, o) { return offered.get(cmd.id + '/' + o.name) || []; }

// suggest asks the bot of found's command for choices for option o (under
// the subcommands path) given what was typed of it; the suggestions are
// kept, and the promise resolves once they are in.
export function suggest(found, path, o, partial, channelID) {
	const c = state.channels.get(channelID);
	let options = [{ name: o.name, type: o.type, value: partial, focused: true }];
	for (const sub of [...path].reverse()) options = [{ name: sub.name, type: sub.type, options }];
	return interact({ type: 4, application_id: found.cmd.application_id, guild_id: c.guild_id, channel_id: channelID,
		data: { id: found.cmd.id, name: found.cmd.name, type: 1, options } })
		.then((choices) => { offered.set(found.cmd.id + '/' + o.name, choices || []); });
}

// component tells a bot that the person used a component of its message
// m: a button (values undefined) or a select's picks.
export function component(m, comp, values) {
	const c = state.channels.get(m.channel_id);
	const data = { component_type: comp.type, custom_id: comp.custom_id };
	if (values) data.values = values;
	return interact({ type: 3, application_id: m.application_id || m.author.id, guild_id: c && c.guild_id, channel_id: m.channel_id, message_id: m.id, data });
}

// interact posts an interaction and waits for the node's word on it.
function interact(body) {
	body.nonce = nonce();
	return new Promise((ok, fail) => {
		const w = { body, ok, fail };
		w.timer = setTimeout(() => settle(body.nonce, new Failed('No word from the node on this interaction.')), answerWait);
		waiting.set(body.nonce, w);
		api.post('/interactions', body).catch((err) => settle(body.nonce, err));
	});
}

// settle ends the wait for an interaction: with err, or with what the
// node said of it.
function settle(n, err, said) {
	const w = waiting.get(n);
	if (!w) return;
	waiting.delete(n);
	clearTimeout(w.timer);
	if (err) w.fail(err);
	else w.ok(said);
}

// dispatch takes the gateway's events about interactions.
export function dispatch(t, d) {
	switch (t) {
	case 'INTERACTION_SUCCESS':
		settle(d.nonce, null);
		break;
	case 'INTERACTION_FAILURE':
		settle(d.nonce, new Failed('The application did not respond.'));
		break;
	case 'APPLICATION_COMMAND_AUTOCOMPLETE_RESPONSE':
		settle(d.nonce, null, d.choices);
		break;
	case 'INTERACTION_MODAL_CREATE': {
		const w = waiting.get(d.nonce);
		if (w) showModal(d, w.body);
		break;
	}
	}
}

// showModal shows the form a bot answered with; its submission is an
// interaction of its own, in the same channel.
function showModal(d, from) {
	const fields = [];
	for (const row of d.components || []) {
		for (const c of row.components || []) {
			fields.push({ name: c.custom_id, label: c.label, type: c.style === 2 ? 'textarea' : 'text', value: c.value, placeholder: c.placeholder,
				attrs: { required: c.required !== false, minLength: c.min_length, maxLength: c.max_length } });
		}
	}
	modal.form(d.title, fields, (v) => interact({ type: 5, application_id: d.application.id, guild_id: from.guild_id, channel_id: from.channel_id,
		data: { custom_id: d.custom_id, components: fields.map((f) => ({ type: 1, components: [{ type: 4, custom_id: f.name, value: v[f.name] }] })) } }), 'Submit');
}
