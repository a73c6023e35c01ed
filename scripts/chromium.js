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
