// The components of a bot's message: rows of buttons, link buttons and
// select menus. Using one is an interaction the bot answers (commands.js);
// while it waits the control is busy, and a failure is said under the
// rows, as Discord says it.

import * as commands from './commands.js';
import { h } from './dom.js';
import { safeURL } from './markdown.js';
import * as state from './state.js';

const type = { row: 1, button: 2, stringSelect: 3, userSelect: 5, roleSelect: 6, mentionSelect: 7, channelSelect: 8 };
const buttonStyles = { 1: 'primary', 2: 'secondary', 3: 'success', 4: 'danger', 5: 'link' };

// render draws m's rows, or returns null when it has none.
export function render(m, guildID) {
	const rows = (m.components || []).filter((r) => r.type === type.row);
	if (!rows.length) return null;
	const box = h('div', { class: 'components' });
	const note = h('div', { class: 'cnote', role: 'alert' });
	const use = async (el, comp, values) => {
		note.textContent = '';
		el.disabled = true;
		el.classList.add('busy');
		try {
			await commands.component(m, comp, values);
		} catch (err) {
			note.textContent = 'This interaction failed: ' + (err.text || err);
		}
		el.disabled = !!comp.disabled;
		el.classList.remove('busy');
	};
	for (const r of rows) {
		box.append(h('div', { class: 'crow' }, (r.components || []).map((c) => (c.type === type.button ? button(c, use) : select(c, guildID, use)))));
	}
	box.append(note);
	return box;
}

function label(c) {
	return [c.emoji && c.emoji.name ? h('span', { class: 'cemoji' }, c.emoji.id ? ':' + c.emoji.name + ':' : c.emoji.name) : null, c.label || ''];
}

function button(c, use) {
	const style = buttonStyles[c.style] || 'secondary';
	if (style === 'link') {
		// A link button leads away from the node: only to the web.
		if (!safeURL(c.url || '')) return h('span', { class: 'cbtn secondary', 'aria-disabled': 'true' }, label(c));
		return h('a', { class: 'cbtn secondary', href: c.url, target: '_blank', rel: 'noopener noreferrer' }, label(c), ' ↗');
	}
	const b = h('button', { class: 'cbtn ' + style, disabled: !!c.disabled, 'aria-label': c.label || (c.emoji && c.emoji.name) || 'Button' }, label(c));
	b.addEventListener('click', () => use(b, c));
	return b;
}

// select draws a select menu as the browser's own: one pick is sent at
// once, several with Apply.
function select(c, guildID, use) {
	const many = (c.max_values || 1) > 1;
	const opts = choices(c, guildID);
	const s = h('select', { class: 'cselect', multiple: many, disabled: !!c.disabled, 'aria-label': c.placeholder || 'Make a selection', size: many ? Math.min(5, opts.length) : null });
	if (!many) s.append(h('option', { value: '', disabled: true, selected: true }, c.placeholder || 'Make a selection'));
	for (const o of opts) s.append(h('option', { value: o.value, selected: many && !!o.default, title: o.description || '' }, o.label));
	const picks = () => [...s.selectedOptions].map((o) => o.value).filter(Boolean);
	if (!many) {
		s.addEventListener('change', () => {
			if (picks().length) use(s, c, picks());
		});
		return s;
	}
	const apply = h('button', { class: 'cbtn secondary', disabled: !!c.disabled }, 'Apply');
	apply.addEventListener('click', () => {
		const v = picks();
		if (v.length >= (c.min_values ?? 1) && v.length <= c.max_values) use(apply, c, v);
	});
	return h('span', { class: 'cmulti' }, s, apply);
}

// choices are a select's options: its own for a string select, else what
// the guild holds of the kind it picks.
function choices(c, guildID) {
	if (c.type === type.stringSelect) return c.options || [];
	const g = state.guilds.get(guildID);
	if (!g) return [];
	const users = () => [...g.members.values()].filter((m) => m.user).map((m) => ({ value: m.user.id, label: state.nameIn(guildID, m.user) }));
	const roles = () => state.sortedRoles(g).filter((r) => r.id !== g.id).map((r) => ({ value: r.id, label: '@' + r.name }));
	switch (c.type) {
	case type.userSelect: return users();
	case type.roleSelect: return roles();
	case type.mentionSelect: return users().concat(roles());
	case type.channelSelect:
		return [...g.channels.values()].filter((ch) => ch.type !== 4 && (!c.channel_types || c.channel_types.includes(ch.type)))
			.map((ch) => ({ value: ch.id, label: '#' + ch.name }));
	default: return [];
	}
}
