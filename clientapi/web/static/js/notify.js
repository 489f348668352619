// Desktop notifications for mentions and direct messages, when the person
// turned them on and the browser allows them. A notification's text is
// plain text: the browser never renders it as markup.

const key = 'concord.notify';

export function supported() { return 'Notification' in window; }

export function enabled() {
	return supported() && Notification.permission === 'granted' && localStorage.getItem(key) === 'on';
}

// enable asks the browser when needed; it resolves to whether they are on.
export async function enable(on) {
	if (!on || !supported()) {
		localStorage.setItem(key, 'off');
		return false;
	}
	const p = Notification.permission === 'granted' ? 'granted' : await Notification.requestPermission();
	localStorage.setItem(key, p === 'granted' ? 'on' : 'off');
	return p === 'granted';
}

// show notifies; one per channel at a time (tag), and a click opens it.
export function show(title, body, channelID, open) {
	if (!enabled()) return;
	const n = new Notification(title, { body: body.slice(0, 200), tag: channelID });
	n.onclick = () => {
		window.focus();
		open();
		n.close();
	};
}
