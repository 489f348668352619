// The client's entry point: the saved theme, then the login screen or the
// app, and back to the login screen (keeping every draft) when the session
// ends.

import * as api from './api.js';
import { App } from './app.js';
import * as login from './login.js';
import { theme } from './settings.js';

const root = document.getElementById('app');
let app = null;

theme(localStorage.getItem('concord.theme') || '');

// An invite link opened before logging in is offered right after.
const invite = /^\/invite\/([A-Za-z0-9-]{2,32})\/?$/.exec(location.pathname);
if (invite) {
	sessionStorage.setItem('concord.invite', invite[1]);
	history.replaceState(null, '', '/channels/@me');
}

function start() {
	if (!api.signedIn()) {
		showLogin();
		return;
	}
	if (location.pathname === '/' || location.pathname === '/login') history.replaceState(null, '', '/channels/@me');
	app = new App(root, signOut);
}

function showLogin(notice) {
	if (!location.pathname.startsWith('/channels/')) history.replaceState(null, '', '/login');
	root.className = 'auth';
	login.show(root, start, notice);
}

// signOut ends the session: asked for (no notice) or expired (notice says
// why). The URL stays, so logging in again lands where the person was.
async function signOut(notice) {
	if (app) app.stop();
	app = null;
	if (!notice) await api.signOut();
	showLogin(notice);
}

api.onExpired(() => signOut('Your session has ended. Log in again to go on; your drafts are kept.'));
start();
