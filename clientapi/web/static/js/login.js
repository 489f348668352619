// The sign-in and sign-up screen. Errors come back from the node per field
// and are shown under the field they name. A node may let only invited
// people register: an invite link the person opened goes with the
// registration, and when the node asks for one, a field takes an invite
// or the operator's registration token.

import * as api from './api.js';
import { clear, h } from './dom.js';
import { inviteCode } from './manage.js';

// show draws the screen in root and calls done once a session exists.
// notice is a line to show above the form (why the person is here).
export function show(root, done, notice) {
	const pending = sessionStorage.getItem('concord.invite');
	// Someone who follows an invite link is most likely new here.
	let mode = pending ? 'register' : 'login';
	const draw = () => {
		const register = mode === 'register';
		const errors = {};
		const field = (name, label, type, auto) => {
			const input = h('input', { id: 'f-' + name, name, type, autocomplete: auto, required: name !== 'email' && name !== 'invite', 'aria-describedby': 'e-' + name });
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
			register ? field('invite', 'Invite link or registration token', 'text', 'off') : null,
			general,
			submit,
			h('p', { class: 'switch' }, register ? 'Already have an account? ' : 'Need an account? ',
				h('button', { type: 'button', class: 'link', onclick: () => { mode = register ? 'login' : 'register'; draw(); } },
					register ? 'Log in' : 'Register')));
		const asked = register && form.querySelector('#f-invite').closest('.field');
		if (asked) asked.hidden = true;
		form.addEventListener('submit', async (e) => {
			e.preventDefault();
			for (const el of Object.values(errors)) el.textContent = '';
			general.textContent = '';
			const data = Object.fromEntries(new FormData(form));
			if (register) {
				if (!data.email) delete data.email;
				const typed = data.invite;
				delete data.invite;
				Object.assign(data, admission(typed, pending));
			}
			submit.disabled = true;
			try {
				await api.signIn(mode, data);
				done();
			} catch (err) {
				const f = err.fields || {};
				if (f.registration_token) f.invite = f.registration_token;
				if (asked && f.invite && asked.hidden) {
					asked.hidden = false;
					asked.querySelector('input').focus();
				}
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

// admission is what lets a person register where the node admits only the
// invited: what they typed, an invite (link or code) or else a
// registration token; or the invite link they came by.
function admission(typed, pending) {
	const t = (typed || '').trim();
	if (!t) return pending ? { invite: pending } : {};
	const code = inviteCode(t);
	return code && (t.includes('/invite/') || /^[A-Za-z0-9]{8}([A-Za-z0-9]{12})?$/.test(t)) ? { invite: code } : { registration_token: t };
}
