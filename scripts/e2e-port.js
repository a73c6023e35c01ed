// The port of the end-to-end server. A server left over from an interrupted run (or any
// other program) may hold the usual one: then the tests either use another, free port, or,
// when E2E_PORT asks for that port, stop at once saying which process holds it. Before,
// the server moved to the next port while Playwright waited 30 s on the busy one.
//
// CLI (used by playwright.config.ts, whose config must be synchronous):
// `node scripts/e2e-port.js [preferred]` prints the port to use; exits 1 with the reason.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const DEFAULT_E2E_PORT = 4599;
const HOST = '127.0.0.1';

/**
 * Listens on `port` (0: any) for a moment; the port it got, or null when it is taken.
 * @param {number} port
 * @returns {Promise<number | null>}
 */
function tryListen(port) {
	return new Promise((resolveTry, rejectTry) => {
		const server = createServer();
		server.once('error', (error) => {
			if (/** @type {NodeJS.ErrnoException} */ (error).code === 'EADDRINUSE') resolveTry(null);
			else rejectTry(error);
		});
		server.listen({ port, host: HOST, exclusive: true }, () => {
			const address = server.address();
			const got = address !== null && typeof address === 'object' ? address.port : null;
			server.close(() => resolveTry(got));
		});
	});
}

/**
 * Which process listens on TCP `port`, as "pid N (command line)", from /proc (Linux); null
 * when it cannot be told (another user's process, or no /proc).
 * @param {number} port
 * @returns {string | null}
 */
export function portHolder(port) {
	/** @type {Set<string | undefined>} */
	const inodes = new Set();
	for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
		let text;
		try {
			text = readFileSync(table, 'utf8');
		} catch {
			continue;
		}
		for (const line of text.split('\n').slice(1)) {
			const fields = line.trim().split(/\s+/);
			// local_address is HEX_IP:HEX_PORT; state 0A is LISTEN; field 9 is the socket's inode.
			if (fields.length < 10 || fields[3] !== '0A') continue;
			const [, localPort = ''] = (fields[1] ?? '').split(':');
			if (parseInt(localPort, 16) === port) inodes.add(fields[9]);
		}
	}
	if (inodes.size === 0) return null;
	let pids;
	try {
		pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
	} catch {
		return null;
	}
	for (const pid of pids) {
		let fds;
		try {
			fds = readdirSync(`/proc/${pid}/fd`);
		} catch {
			continue;
		}
		for (const fd of fds) {
			let target;
			try {
				target = readlinkSync(`/proc/${pid}/fd/${fd}`);
			} catch {
				continue;
			}
			const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
			if (inode && inodes.has(inode)) {
				let command = '';
				try {
					command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
				} catch {
					// The process ended meanwhile: its pid still says who it was.
				}
				return `pid ${pid}${command ? ` (${command})` : ''}`;
			}
		}
	}
	return null;
}

/**
 * The port for the end-to-end server: `requested` when given (E2E_PORT), which must be
 * free; otherwise `preferred` when free, else any free port, with a notice naming the
 * holder of `preferred`.
 * @param {{ requested?: number, preferred?: number, log?: (line: string) => void }} [options]
 * @returns {Promise<number>}
 */
export async function chooseE2ePort({ requested, preferred = DEFAULT_E2E_PORT, log = (line) => console.error(line) } = {}) {
	const holderText = (/** @type {number} */ port) => portHolder(port) ?? 'a process this user cannot see';
	if (requested !== undefined) {
		if (!Number.isInteger(requested) || requested < 1 || requested > 65535)
			throw new RangeError(`E2E_PORT must be a port number (1-65535), got ${requested}`);
		if ((await tryListen(requested)) === null)
			throw new Error(`E2E_PORT ${requested} is busy, held by ${holderText(requested)}: end it, or unset E2E_PORT to use a free port`);
		return requested;
	}
	if ((await tryListen(preferred)) !== null) return preferred;
	const free = await tryListen(0);
	if (free === null) throw new Error('no free port on 127.0.0.1');
	log(`Port ${preferred} is busy, held by ${holderText(preferred)}; the end-to-end tests use port ${free}.`);
	return free;
}

async function main() {
	const raw = process.env.E2E_PORT;
	try {
		const port = await chooseE2ePort(raw === undefined || raw === '' ? {} : { requested: Number(raw) });
		console.log(port);
	} catch (error) {
		console.error(/** @type {Error} */ (error).message);
		process.exit(1);
	}
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
