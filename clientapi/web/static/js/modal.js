// Dialogs and menus. Dialogs are <dialog> elements opened modally, so the
// browser traps focus and Escape closes them.

import { h } from './dom.js';

// open shows a dialog with a title and body; it returns the dialog, whose
// close() removes it.
export function open(title, body, opts = {}) {
	const d = h('dialog', { class: 'modal ' + (opts.class || ''), 'aria-label': title });
	const close = h('button', { class: 'x', 'aria-label': 'Close', onclick: () => d.close() }, '×');
	d.append(h('header', {}, h('h2', {}, title), close), body);
	d.addEventListener('close', () => {
		d.remove();
		// Chromium gives the focus back to the field that held it, which
		// then takes no typing until it is focused anew.
		const back = document.activeElement;
		if (back && back !== document.body) {
			back.blur();
			back.focus();
		}
		if (opts.onclose) opts.onclose();
	});
	d.addEventListener('click', (e) => {
		if (e.target === d) d.close(); // a click on the backdrop
	});
	document.body.append(d);
	d.showModal();
	return d;
}

// confirm asks a yes/no question; it resolves true for yes.
export function confirm(title, text, yes = 'Confirm', danger = true) {
	return new Promise((ok) => {
		let answer = false;
		const b = h('div', { class: 'mbody' }, h('p', {}, text));
		const go = h('button', { class: danger ? 'danger' : 'primary', onclick: () => { answer = true; d.close(); } }, yes);
		b.append(h('div', { class: 'mfoot' }, h('button', { class: 'plain', onclick: () => d.close() }, 'Cancel'), go));
		const d = open(title, b, { onclose: () => ok(answer) });
		go.focus();
	});
}

// form shows fields and resolves with their values, or null when
// cancelled. fields: [{name, label, type?, value?, options?, attrs?}],
// attrs being the input's own (required, maxLength …). submit
// receives the values and may throw an APIError to keep the dialog open.
export function form(title, fields, submit, yes = 'Save') {
	return new Promise((ok) => {
		let result = null;
		const err = h('div', { class: 'ferr', role: 'alert' });
		const inputs = {};
		const f = h('form', { class: 'mbody' });
		for (const fd of fields) {
			let input;
			if (fd.options) {
				input = h('select', { id: 'm-' + fd.name, name: fd.name }, fd.options.map(([v, l]) => h('option', { value: v, selected: v === fd.value }, l)));
			} else if (fd.type === 'textarea') {
				input = h('textarea', { id: 'm-' + fd.name, name: fd.name, value: fd.value || '', rows: 3, ...fd.attrs });
			} else if (fd.type === 'checkbox') {
				input = h('input', { id: 'm-' + fd.name, name: fd.name, type: 'checkbox', checked: !!fd.value });
			} else {
				input = h('input', { id: 'm-' + fd.name, name: fd.name, type: fd.type || 'text', value: fd.value || '', placeholder: fd.placeholder || '', ...fd.attrs });
			}
			inputs[fd.name] = input;
			f.append(h('div', { class: 'field' + (fd.type === 'checkbox' ? ' check' : '') }, h('label', { for: 'm-' + fd.name }, fd.label), input));
		}
		const go = h('button', { type: 'submit', class: 'primary' }, yes);
		f.append(err, h('div', { class: 'mfoot' }, h('button', { type: 'button', class: 'plain', onclick: () => d.close() }, 'Cancel'), go));
		f.addEventListener('submit', async (e) => {
			e.preventDefault();
			const v = {};
			for (const [k, input] of Object.entries(inputs)) v[k] = input.type === 'checkbox' ? input.checked : input.value;
			go.disabled = true;
			try {
				result = submit ? await submit(v) : v;
				if (result === undefined) result = v;
				d.close();
			} catch (x) {
				err.textContent = x.text || String(x);
				go.disabled = false;
			}
		});
		const d = open(title, f, { onclose: () => ok(result) });
		const first = f.querySelector('input,select,textarea');
		if (first) first.focus();
	});
}

let openMenu = null;

// menu shows a list of actions next to anchor. items: [label, fn, danger?]
// or null for a line.
export function menu(anchor, items) {
	const at = anchor.getBoundingClientRect();
	closeMenu();
	const m = h('div', { class: 'menu', role: 'menu' });
	for (const it of items) {
		if (!it) {
			m.append(h('div', { class: 'line', role: 'separator' }));
			continue;
		}
		const [label, fn, danger] = it;
		m.append(h('button', { role: 'menuitem', class: danger ? 'danger' : '', onclick: () => { closeMenu(); fn(); } }, label));
	}
	place(m, at);
	openMenu = m;
	m.addEventListener('keydown', (e) => {
		const b = [...m.querySelectorAll('button')];
		const i = b.indexOf(document.activeElement);
		if (e.key === 'ArrowDown') b[(i + 1) % b.length].focus();
		else if (e.key === 'ArrowUp') b[(i - 1 + b.length) % b.length].focus();
		else if (e.key === 'Escape') {
			closeMenu();
			anchor.focus();
		} else return;
		e.preventDefault();
	});
	const first = m.querySelector('button');
	if (first) first.focus();
	return m;
}

// popup places any element next to anchor, closed like a menu.
export function popup(el, anchor) {
	const at = anchor.getBoundingClientRect();
	closeMenu();
	el.classList.add('popup');
	place(el, at);
	openMenu = el;
	el.addEventListener('keydown', (e) => {
		if (e.key === 'Escape') {
			closeMenu();
			anchor.focus();
		}
	});
	return el;
}

function place(el, r) {
	document.body.append(el);
	const w = el.offsetWidth;
	const ht = el.offsetHeight;
	let x = r.right + 8;
	if (x + w > innerWidth - 8) x = Math.max(8, r.left - w - 8);
	if (x < 8 || innerWidth < 600) x = Math.max(8, Math.min(innerWidth - w - 8, r.left));
	let y = Math.min(r.top, innerHeight - ht - 8);
	if (innerWidth < 600 && r.bottom + ht < innerHeight) y = r.bottom + 4;
	el.style.left = x + 'px';
	el.style.top = Math.max(8, y) + 'px';
}

export function closeMenu() {
	if (openMenu) openMenu.remove();
	openMenu = null;
}

addEventListener('mousedown', (e) => {
	if (openMenu && !openMenu.contains(e.target)) closeMenu();
});

