// Debian's Chromium, never a downloaded build. Flags verified in ../shared/TOOLCHAIN.md:
// no background traffic off the machine, and host ICE candidates as plain IPs.
import { existsSync } from 'node:fs';

export const chromiumArgs = [
	'--no-sandbox',
	'--disable-gpu',
	'--disable-quic',
	'--no-first-run',
	'--disable-background-networking',
	'--disable-component-update',
	'--disable-sync',
	'--disable-features=WebRtcHideLocalIpsWithMdns'
];

/** Path of the system Chromium; throws with the install command when it is missing. */
export function chromiumPath() {
	const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
	for (const path of candidates) if (path && existsSync(path)) return path;
	throw new Error('Chromium not found: run `apt-get install -y chromium` (or set CHROMIUM_PATH)');
}

/** Debian's package of Chromium's headless shell (the "old" headless mode, same version as `chromium`). */
export const HEADLESS_SHELL = '/usr/bin/chromium-headless-shell';
let warned = false;

/**
 * The browser the tests drive (end-to-end and Vitest's browser mode): Debian's
 * `chromium-headless-shell` when installed, else `chromiumPath()`. The shell is the same
 * Chromium (Blink, V8, IndexedDB, WebRTC, service workers) without the desktop browser's
 * UI layer; it is what Playwright itself runs for headless tests. Measured here: the same
 * specs took a third less CPU in it (docs/app.md, "How long `npm test` takes"), and the
 * test stage is bound by CPU on two cores. CHROMIUM_PATH still chooses a browser outright.
 */
export function testBrowserPath() {
	if (process.env.CHROMIUM_PATH) return chromiumPath();
	if (existsSync(HEADLESS_SHELL)) return HEADLESS_SHELL;
	if (!warned) {
		warned = true;
		console.warn(`${HEADLESS_SHELL} not found: testing in ${chromiumPath()} (slower; apt-get install -y chromium-headless-shell)`);
	}
	return chromiumPath();
}
