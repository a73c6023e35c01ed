// The headers that confine the served app: its Content-Security-Policy, its
// Permissions-Policy, and the usual no-sniffing, no-framing, no-referrer headers.
//
// The policy is built into the app by SvelteKit (svelte.config.js, `kit.csp`) as a
// <meta> tag, with the hashes of its inline start-up script. A <meta> policy cannot be
// widened by a header (both would apply), yet which signaling servers a clinic uses is
// known only where the app is served. So the server takes the policy out of the page,
// adds the operator's signaling origins (SIGNALING_ORIGINS) to `connect-src` and
// `frame-ancestors 'none'` (which a <meta> cannot carry), and sends it as a header.

/**
 * Signaling servers every build may reach besides its own origin: a relay on this
 * machine, on any port (a clinic's own server, the test servers). Shared with
 * svelte.config.js so the built page and the served header agree.
 */
export const LOCAL_SIGNALING_SOURCES = Object.freeze(['ws://127.0.0.1:*', 'ws://localhost:*']);

/**
 * Features the app uses: the camera (scanning GS1 barcodes on supply lots) from its own
 * pages; everything else a page could ask the browser for is off.
 */
export const PERMISSIONS_POLICY = [
	'camera=(self)',
	'microphone=()',
	'geolocation=()',
	'payment=()',
	'usb=()',
	'serial=()',
	'hid=()',
	'midi=()',
	'display-capture=()',
	'clipboard-read=()'
].join(', ');

/** Headers on every response. */
export const BASE_HEADERS = Object.freeze({
	'X-Content-Type-Options': 'nosniff',
	'X-Frame-Options': 'DENY',
	'Referrer-Policy': 'no-referrer',
	'Cross-Origin-Opener-Policy': 'same-origin',
	'Cross-Origin-Resource-Policy': 'same-origin',
	'Permissions-Policy': PERMISSIONS_POLICY
});

/** For a page built without a policy (or a build this server does not know): nothing inline, nothing foreign. */
const FALLBACK_POLICY = `default-src 'self'; connect-src 'self' ${LOCAL_SIGNALING_SOURCES.join(' ')}; object-src 'none'; base-uri 'self'; form-action 'self'`;

const META_POLICY = /<meta\s+http-equiv="content-security-policy"\s+content="([^"]*)"\s*\/?>/i;

/**
 * The policy to send for `html` and the page without its <meta> policy.
 * @param {string} html
 * @param {readonly string[]} signalingOrigins added to `connect-src`
 * @returns {{ policy: string, html: string }}
 */
export function pagePolicy(html, signalingOrigins) {
	const meta = META_POLICY.exec(html);
	return { policy: extendPolicy(meta?.[1] ?? FALLBACK_POLICY, signalingOrigins), html: meta ? html.replace(meta[0], '') : html };
}

/**
 * `policy` with `signalingOrigins` in `connect-src` and framing forbidden.
 * @param {string} policy
 * @param {readonly string[]} signalingOrigins
 */
export function extendPolicy(policy, signalingOrigins) {
	/** @type {Map<string, string[]>} */
	const directives = new Map();
	for (const part of policy.split(';')) {
		const [name, ...values] = part.trim().split(/\s+/);
		if (name) directives.set(name.toLowerCase(), values);
	}
	// connect-src falls back to default-src; an explicit one must keep what it allowed.
	const connect = directives.get('connect-src') ?? directives.get('default-src') ?? [];
	directives.set('connect-src', [...connect, ...signalingOrigins.filter((origin) => !connect.includes(origin))]);
	directives.set('frame-ancestors', ["'none'"]);
	return [...directives].map(([name, values]) => [name, ...values].join(' ')).join('; ');
}
