// Origins the operator lists in the environment: the web pages allowed to use this relay
// (RELAY_ORIGINS) and the signaling servers the served app may connect to
// (SIGNALING_ORIGINS). One parser for both, so a typo stops the server at start instead
// of silently allowing nothing (or everything).

/**
 * Parses a list of origins separated by spaces or commas. Each must be a bare origin
 * (scheme, host, optional port: no path, query, fragment or user name) with one of
 * `schemes`; returns them normalized (`new URL(...).origin`), without duplicates.
 * @param {string | undefined} text
 * @param {readonly string[]} schemes e.g. ['http:', 'https:']
 * @param {string} label names the list in the error, e.g. the environment variable
 * @returns {string[]}
 */
export function parseOriginList(text, schemes, label) {
	/** @type {string[]} */
	const origins = [];
	for (const item of (text ?? '').split(/[\s,]+/).filter((s) => s !== '')) {
		let url;
		try {
			url = new URL(item);
		} catch {
			throw new Error(`${label}: "${item}" is not a URL`);
		}
		if (!schemes.includes(url.protocol))
			throw new Error(`${label}: "${item}" must start with ${schemes.map((s) => `${s}//`).join(' or ')}`);
		const bare =
			url.pathname === '/' && !item.endsWith('/') && url.search === '' && url.hash === '' && url.username === '' && url.password === '';
		if (!bare) throw new Error(`${label}: "${item}" must be an origin only (scheme://host[:port]), without a path`);
		const origin = `${url.protocol}//${url.host}`;
		if (!origins.includes(origin)) origins.push(origin);
	}
	return origins;
}

/** Host names that reach this machine only: pages served from them are this server's own. */
const LOOPBACK_HOSTNAMES = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * Whether a WebSocket handshake's `Origin` header is the relay's own page: the same
 * host and port as the request's `Host`, and that host a loopback name. The loopback
 * condition is what defeats DNS rebinding: a hostile name resolved to 127.0.0.1 sends
 * matching Origin and Host headers, but never a loopback host name. A page behind a
 * reverse proxy (https://clinic.example) is listed in RELAY_ORIGINS instead.
 * @param {string} origin the Origin header
 * @param {string | undefined} host the Host header
 */
export function isOwnLoopbackOrigin(origin, host) {
	if (host === undefined) return false;
	try {
		const url = new URL(origin);
		if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
		return url.host === new URL(`${url.protocol}//${host}`).host && LOOPBACK_HOSTNAMES.has(url.hostname);
	} catch {
		return false;
	}
}
