// The node's REST API (Discord's v10, plus the account routes of
// spec/client-api.md) with the signed-in session's tokens. Every call
// carries the access token; a 401 refreshes the session once and retries;
// a refresh that fails ends the session, and whoever listens to
// onExpired sends the person to the login screen.

const base = '/api/v10';
const storeKey = 'concord.session';
// Refresh this long before the access token runs out.
const early = 60_000;

let session = load();
const expired = new Set();

function load() {
	try {
		const s = JSON.parse(localStorage.getItem(storeKey));
		return s && s.token && s.refresh ? s : null;
	} catch {
		return null;
	}
}

function save(body) {
	session = {
		token: body.token,
		refresh: body.refresh_token,
		expires: Date.now() + body.expires_in * 1000,
		user_id: body.user_id || (session && session.user_id),
	};
	localStorage.setItem(storeKey, JSON.stringify(session));
}

function drop() {
	session = null;
	localStorage.removeItem(storeKey);
}

// APIError is a refused request with Discord's body.
export class APIError extends Error {
	constructor(status, body) {
		super((body && body.message) || `HTTP ${status}`);
		this.status = status;
		this.code = body && body.code;
		this.body = body;
	}

	// fields flattens Discord's nested errors into {field: message}.
	get fields() {
		const out = {};
		const walk = (o, path) => {
			if (!o || typeof o !== 'object') return;
			if (Array.isArray(o._errors)) out[path || '_body'] = o._errors.map((e) => e.message).join(' ');
			for (const [k, v] of Object.entries(o)) if (k !== '_errors') walk(v, path ? path + '.' + k : k);
		};
		walk(this.body && this.body.errors, '');
		return out;
	}

	// text is one line for a person.
	get text() {
		const f = Object.values(this.fields);
		return f.length ? f.join(' ') : this.message;
	}
}

export function signedIn() { return session !== null; }
export function userID() { return session && session.user_id; }

// onExpired calls fn when the session ends without the person asking.
export function onExpired(fn) { expired.add(fn); }

// signIn registers (kind 'register') or logs in ('login') and keeps the
// session.
export async function signIn(kind, body) {
	const r = await fetch(`${base}/auth/${kind}`, {
		method: 'POST',
		headers: { 'Content-Type': 'application/json' },
		body: JSON.stringify(body),
	});
	const out = await r.json().catch(() => null);
	if (!r.ok) throw new APIError(r.status, out);
	save(out);
}

// signOut revokes the session on the node and forgets it here.
export async function signOut() {
	try {
		await call('POST', '/auth/logout');
	} catch { /* gone already: forgetting it is all that is left */ }
	drop();
}

function end() {
	drop();
	for (const fn of expired) fn();
}

let refreshing = null;

// token is an access token good for at least a minute, refreshing first
// when needed.
export async function token() {
	if (!session) throw new APIError(401, { message: 'Not signed in' });
	if (session.expires - early > Date.now()) return session.token;
	await refresh(session.token);
	return session.token;
}

// refresh trades the refresh token for a new pair. Tabs share one session:
// a spent refresh token revokes the whole session on the node, so tabs take
// turns under a lock and a tab that finds a newer pair saved by another
// uses it.
function refresh(stale) {
	if (!refreshing) {
		const run = async () => {
			const saved = load();
			if (saved && saved.token !== stale && saved.expires - early > Date.now()) {
				session = saved;
				return;
			}
			const r = await fetch(`${base}/auth/refresh`, {
				method: 'POST',
				headers: { 'Content-Type': 'application/json' },
				body: JSON.stringify({ refresh_token: (saved || session).refresh }),
			}).catch(() => null);
			if (r === null) throw new APIError(0, { message: 'The node cannot be reached.' });
			if (r.status === 401 || r.status === 400) {
				end();
				throw new APIError(401, { message: 'Your session has ended.' });
			}
			if (!r.ok) throw new APIError(r.status, await r.json().catch(() => null));
			save(await r.json());
		};
		const locked = navigator.locks ? navigator.locks.request('concord.refresh', run) : run();
		refreshing = locked.finally(() => { refreshing = null; });
	}
	return refreshing;
}

// call sends one request. body is JSON unless it is FormData. A 429 waits
// as long as the node says, twice at most.
export async function call(method, path, body, tries = 3) {
	const headers = { Authorization: await token() };
	let payload;
	if (body instanceof FormData) payload = body;
	else if (body !== undefined) {
		headers['Content-Type'] = 'application/json';
		payload = JSON.stringify(body);
	}
	let r;
	try {
		r = await fetch(base + path, { method, headers, body: payload });
	} catch {
		throw new APIError(0, { message: 'The node cannot be reached.' });
	}
	if (r.status === 401 && tries > 0 && session) {
		await refresh(headers.Authorization);
		return call(method, path, body, 0);
	}
	if (r.status === 429 && tries > 1) {
		const b = await r.json().catch(() => ({}));
		await new Promise((ok) => setTimeout(ok, Math.min((b.retry_after || 1) * 1000, 30_000)));
		return call(method, path, body, tries - 1);
	}
	if (r.status === 204) return null;
	const out = await r.json().catch(() => null);
	if (!r.ok) {
		if (r.status === 401) end();
		throw new APIError(r.status, out);
	}
	return out;
}

export const get = (p) => call('GET', p);
export const post = (p, b) => call('POST', p, b === undefined ? {} : b);
export const patch = (p, b) => call('PATCH', p, b);
export const put = (p, b) => call('PUT', p, b);
export const del = (p) => call('DELETE', p);

// q builds a query string from the set values of o.
export function q(o) {
	const p = new URLSearchParams();
	for (const [k, v] of Object.entries(o)) if (v !== undefined && v !== null && v !== '') p.set(k, v);
	const s = p.toString();
	return s ? '?' + s : '';
}
