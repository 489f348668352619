// The sign-in and sign-up screen. Errors come back from the node per field
// and are shown under the field they name.

import * as api from './api.js';
import { clear, h } from './dom.js';

// show draws the screen in root and calls done once a session exists.
// notice is a line to show above the form (why the person is here).
export function show(root, done, notice) {
	let mode = 'login';
	const draw = () => {
		const register = mode === 'register';
		const errors = {};
		const field = (name, label, type, auto) => {
			const input = h('input', { id: 'f-' + name, name, type, autocomplete: auto, required: name !== 'email', 'aria-describedby': 'e-' + name });
			errors[name] = h('div', { class: 'ferr', id: 'e-' + name, role: 'alert' });
			return h('div', { class: 'field' }, h('label', { for: 'f-' + name }, label), input, errors[name]);
		};
		const general = h('div', { class: 'ferr', role: 'alert' });
		const submit = h('button', { type: 'submit', class: 'primary wide' }, register ? 'Create account' : 'Log in');
		const form = h('form', { class: 'auth', 'aria-label': register ? 'Create an account' : 'Log in', novalidate: true },
			h('h1', {}, register ? 'Create an account' : 'Welcome back!'),
			h('p', { class: 'sub' }, register ? 'Join the communities on this node.' : 'We’re so excited to see you again!'),
			notice ? h('p', { class: 'notice', role: 'status' }, notice) : null,
			register ? field('username', 'Username', 'text', 'username') : field('login', 'Username or email', 'text', 'username'),
			register ? field('email', 'Email (optional)', 'email', 'email') : null,
			field('password', 'Password', 'password', register ? 'new-password' : 'current-password'),
			general,
			submit,
			h('p', { class: 'switch' }, register ? 'Already have an account? ' : 'Need an account? ',
				h('button', { type: 'button', class: 'link', onclick: () => { mode = register ? 'login' : 'register'; draw(); } },
					register ? 'Log in' : 'Register')));
		form.addEventListener('submit', async (e) => {
			e.preventDefault();
			for (const el of Object.values(errors)) el.textContent = '';
			general.textContent = '';
			const data = Object.fromEntries(new FormData(form));
			if (register && !data.email) delete data.email;
			submit.disabled = true;
			try {
				await api.signIn(mode, data);
				done();
			} catch (err) {
				const f = err.fields || {};
				let shown = false;
				for (const [k, msg] of Object.entries(f)) {
					if (errors[k]) {
						errors[k].textContent = msg;
						shown = true;
					}
				}
				if (!shown) general.textContent = err.text || String(err);
				submit.disabled = false;
			}
		});
		clear(root, h('main', { class: 'authpage' }, h('div', { class: 'brand' }, h('img', { src: document.querySelector('link[rel=icon]').href, alt: '', width: 40, height: 40 }), 'Concord'), form));
		form.querySelector('input').focus();
	};
	draw();
}
