// The local server of a clinic: serves the built app (build/, from `vite build`) on
// 127.0.0.1 only. It never sees ledger data: every record lives in the browser.
//
// `startServer` owns the one HTTP server of the process. The WebRTC signaling relay
// (server/signaling.js) is attached to the same server at /signaling, so a clinic runs
// one process, one port, both on 127.0.0.1.
//
// CLI: `node server/start.js` (PORT from the environment, default 5173).
import { appendFileSync, createReadStream, mkdirSync, writeFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { attachSignaling } from './signaling.js';

const HOST = '127.0.0.1';
/** WebSocket path of the signaling relay on the same server and port. */
export const SIGNALING_PATH = '/signaling';
export const DEFAULT_PORT = 5173;
/** Ports tried after a busy one before letting the system choose. */
const PORT_ATTEMPTS = 10;

/** @type {Record<string, string>} */
const CONTENT_TYPES = {
	'.html': 'text/html; charset=utf-8',
	'.js': 'text/javascript; charset=utf-8',
	'.mjs': 'text/javascript; charset=utf-8',
	'.css': 'text/css; charset=utf-8',
	'.json': 'application/json; charset=utf-8',
	'.webmanifest': 'application/manifest+json; charset=utf-8',
	'.map': 'application/json; charset=utf-8',
	'.svg': 'image/svg+xml',
	'.png': 'image/png',
	'.jpg': 'image/jpeg',
	'.jpeg': 'image/jpeg',
	'.gif': 'image/gif',
	'.webp': 'image/webp',
	'.ico': 'image/x-icon',
	'.woff': 'font/woff',
	'.woff2': 'font/woff2',
	'.txt': 'text/plain; charset=utf-8',
	'.wasm': 'application/wasm'
};

/** Headers on every response: no sniffing, no framing, no referrer leaking a record's URL. */
const BASE_HEADERS = {
	'X-Content-Type-Options': 'nosniff',
	'X-Frame-Options': 'DENY',
	'Referrer-Policy': 'no-referrer',
	'Cross-Origin-Opener-Policy': 'same-origin'
};

/**
 * @param {import('node:http').ServerResponse} res
 * @param {number} status
 * @param {string} message
 */
function sendText(res, status, message) {
	res.writeHead(status, { ...BASE_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(message) });
	res.end(message);
}

/**
 * The file under `root` that `pathname` names, or null when it names something outside
 * `root` (traversal), something malformed, or a hidden file.
 * @param {string} root absolute
 * @param {string} pathname raw, still percent-encoded
 */
function resolveInside(root, pathname) {
	let decoded;
	try {
		decoded = decodeURIComponent(pathname);
	} catch {
		return null;
	}
	if (decoded.includes('\0') || decoded.includes('\\')) return null;
	const segments = decoded.split('/');
	if (segments.some((s) => s === '..' || (s.startsWith('.') && s !== '.well-known'))) return null;
	const file = resolve(root, '.' + decoded);
	return file === root || file.startsWith(root + sep) ? file : null;
}

/**
 * @param {string} file
 * @returns {Promise<import('node:fs').Stats | null>}
 */
async function fileStat(file) {
	try {
		const s = await stat(file);
		return s.isFile() ? s : null;
	} catch {
		return null;
	}
}

/**
 * Request handler serving the static files of `root`, with the SPA fallback: a path that
 * names no file (and has no file extension) gets `index.html`, and the client router
 * takes it from there.
 * @param {string} root
 * @returns {import('node:http').RequestListener}
 */
export function createStaticHandler(root) {
	const base = resolve(root);
	const fallback = join(base, 'index.html');
	return async (req, res) => {
		if (req.method !== 'GET' && req.method !== 'HEAD') {
			res.setHeader('Allow', 'GET, HEAD');
			return sendText(res, 405, 'Method not allowed\n');
		}
		const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
		let file = resolveInside(base, pathname);
		if (file === null) return sendText(res, 404, 'Not found\n');
		let info = await fileStat(file);
		if (!info && (await fileStat(join(file, 'index.html')))) {
			file = join(file, 'index.html');
			info = await fileStat(file);
		}
		if (!info) {
			if (extname(pathname) !== '') return sendText(res, 404, 'Not found\n');
			file = fallback;
			info = await fileStat(file);
			if (!info) return sendText(res, 500, 'The app is not built: run `npx vite build`\n');
		}
		const immutable = pathname.startsWith('/_app/immutable/');
		res.writeHead(200, {
			...BASE_HEADERS,
			'Content-Type': CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
			'Content-Length': info.size,
			// Hashed bundles never change; everything else is revalidated so an update is picked up.
			'Cache-Control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache'
		});
		if (req.method === 'HEAD') return res.end();
		const stream = createReadStream(file);
		stream.on('error', () => res.destroy());
		stream.pipe(res);
	};
}

/**
 * Listens on `port`; when it is busy, tries the next ones, then any free port.
 * @param {import('node:http').Server} server
 * @param {number} port
 * @returns {Promise<number>} the port in use
 */
async function listen(server, port) {
	for (let attempt = 0; ; attempt++) {
		const candidate = attempt < PORT_ATTEMPTS ? port + attempt : 0;
		try {
			await new Promise((resolveListen, rejectListen) => {
				server.once('error', rejectListen);
				server.listen(candidate, HOST, () => {
					server.off('error', rejectListen);
					resolveListen(undefined);
				});
			});
			const address = server.address();
			if (address === null || typeof address === 'string') throw new Error('server has no TCP address');
			return address.port;
		} catch (error) {
			const code = /** @type {NodeJS.ErrnoException} */ (error).code;
			if (code !== 'EADDRINUSE' || candidate === 0) throw error;
		}
	}
}

/**
 * Starts the clinic's server on 127.0.0.1.
 * @param {{port?: number, root?: string, capture?: string}} [options] `port` defaults to 5173 (0: any free
 *   port); `root` to the build/ directory next to this file's parent; `capture`: a file that
 *   receives every signaling message relayed, one per line (tests check it holds no record data).
 * @returns {Promise<{url: string, port: number, signalingUrl: string, server: import('node:http').Server, signaling: {close(): void, stats(): {connections: number, topics: number}}, close: () => Promise<void>}>}
 */
export async function startServer({ port = DEFAULT_PORT, root = fileURLToPath(new URL('../build', import.meta.url)), capture } = {}) {
	if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`port: expected 0-65535, got ${port}`);
	const server = createServer(createStaticHandler(root));
	if (capture) {
		mkdirSync(dirname(capture), { recursive: true });
		writeFileSync(capture, '');
	}
	const onRelay = capture ? (/** @type {string} */ raw) => appendFileSync(capture, `${raw}\n`) : undefined;
	const signaling = attachSignaling(server, { path: SIGNALING_PATH, ...(onRelay ? { onRelay } : {}) });
	const actual = await listen(server, port);
	return {
		url: `http://${HOST}:${actual}/`,
		port: actual,
		signalingUrl: `ws://${HOST}:${actual}${SIGNALING_PATH}`,
		server,
		signaling,
		close: () =>
			new Promise((resolveClose, rejectClose) => {
				signaling.close();
				server.close((error) => (error ? rejectClose(error) : resolveClose()));
				server.closeAllConnections();
			})
	};
}

async function main() {
	const root = fileURLToPath(new URL('../build', import.meta.url));
	if (!(await fileStat(join(root, 'index.html')))) {
		console.error(`No built app in ${root}: run \`npx vite build\` first (or \`npm start\`, which builds).`);
		process.exit(1);
	}
	const requested = process.env.PORT === undefined || process.env.PORT === '' ? DEFAULT_PORT : Number(process.env.PORT);
	if (!Number.isInteger(requested) || requested < 1 || requested > 65535) {
		console.error(`PORT must be a port number (1-65535), got "${process.env.PORT}"`);
		process.exit(1);
	}
	const capture = process.env.SIGNALING_CAPTURE || undefined;
	const { url, port, signalingUrl, close } = await startServer({ port: requested, root, ...(capture ? { capture } : {}) });
	if (port !== requested) {
		// Browsers keep data per origin, and the port is part of it: warn that this is not the usual address.
		console.warn(`Port ${requested} is busy; using ${port}. The browser keeps a separate ledger and identity for each address.`);
	}
	console.log(`Signaling relay (WebRTC introductions only, no records) at ${signalingUrl}`);
	console.log(`Clinic ledger running at ${url}`);
	const stop = () => {
		close().then(
			() => process.exit(0),
			() => process.exit(1)
		);
	};
	process.once('SIGINT', stop);
	process.once('SIGTERM', stop);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
