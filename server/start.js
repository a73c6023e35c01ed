// The local server of a clinic: serves the built app (build/, from `vite build`) on
// 127.0.0.1 only. It never sees ledger data: every record lives in the browser.
//
// `startServer` owns the one HTTP server of the process. The WebRTC signaling relay
// (server/signaling.js) is attached to the same server at /signaling, so a clinic runs
// one process, one port, both on 127.0.0.1.
//
// Any web page open in a clinic's browser can send requests to 127.0.0.1, so the server
// expects hostile input: header timeouts against slow clients, a connection cap, no
// socket or URL error that can reach the process, and the relay's own limits
// (server/signaling.js).
//
// CLI: `node server/start.js`. Environment: PORT (default 5173); RELAY_ORIGINS, web page
// origins of other servers allowed to use this relay (e.g. `https://clinic.example`,
// needed behind a reverse proxy); SIGNALING_ORIGINS, signaling servers besides this one
// that the served app may connect to (e.g. `wss://relay.example`); both separated by
// spaces or commas; STRICT_PORT=1, exit at once when PORT is busy instead of using the next
// free port (what the end-to-end tests need: Playwright waits on that port).
import { appendFileSync, createReadStream, mkdirSync, writeFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseOriginList } from './origins.js';
import { BASE_HEADERS, pagePolicy } from './security-headers.js';
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

/** Slow-client limits (ms): a request's headers, a whole request, and how often both are checked. */
export const DEFAULT_HEADERS_TIMEOUT = 10_000;
export const DEFAULT_REQUEST_TIMEOUT = 30_000;
const TIMEOUT_CHECK_INTERVAL = 1_000;
/** Open sockets the server accepts at once (browsers keep about 6 per page). */
const MAX_SOCKETS = 1024;

/**
 * @param {import('node:http').ServerResponse} res
 * @param {number} status
 * @param {string} message
 */
function sendText(res, status, message) {
	res.writeHead(status, {
		...BASE_HEADERS,
		'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
		'Content-Type': 'text/plain; charset=utf-8',
		'Content-Length': Buffer.byteLength(message)
	});
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
 * takes it from there. Every response carries the app's Content-Security-Policy
 * (security-headers.js), with `signalingOrigins` allowed in `connect-src`.
 * @param {string} root
 * @param {{ signalingOrigins?: readonly string[] }} [options]
 * @returns {import('node:http').RequestListener}
 */
export function createStaticHandler(root, { signalingOrigins = [] } = {}) {
	const base = resolve(root);
	const fallback = join(base, 'index.html');
	/** The policy of index.html, for the files it loads (a worker runs under its script's policy). */
	let appPolicy = { mtimeMs: -1, policy: pagePolicy('', signalingOrigins).policy };
	/** @param {import('node:fs').Stats} info */
	const policyFor = async (info) => {
		if (info.mtimeMs !== appPolicy.mtimeMs) {
			appPolicy = { mtimeMs: info.mtimeMs, policy: pagePolicy(await readFile(fallback, 'utf8'), signalingOrigins).policy };
		}
		return appPolicy.policy;
	};
	/** @type {(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => Promise<unknown>} */
	const serve = async (req, res) => {
		if (req.method !== 'GET' && req.method !== 'HEAD') {
			res.setHeader('Allow', 'GET, HEAD');
			return sendText(res, 405, 'Method not allowed\n');
		}
		let pathname;
		try {
			pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
		} catch {
			return sendText(res, 400, 'Bad request\n');
		}
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
		const headers = {
			...BASE_HEADERS,
			'Content-Type': CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
			// Hashed bundles never change; everything else is revalidated so an update is picked up.
			'Cache-Control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache'
		};
		if (extname(file).toLowerCase() === '.html') {
			const page = pagePolicy(await readFile(file, 'utf8'), signalingOrigins);
			const body = Buffer.from(page.html);
			res.writeHead(200, { ...headers, 'Content-Security-Policy': page.policy, 'Content-Length': body.length });
			return res.end(req.method === 'HEAD' ? undefined : body);
		}
		const appInfo = await fileStat(fallback);
		res.writeHead(200, {
			...headers,
			'Content-Security-Policy': appInfo ? await policyFor(appInfo) : appPolicy.policy,
			'Content-Length': info.size
		});
		if (req.method === 'HEAD') return res.end();
		const stream = createReadStream(file);
		stream.on('error', () => res.destroy());
		stream.pipe(res);
	};
	// A file removed or unreadable between stat and read must not become an unhandled rejection.
	return (req, res) => {
		serve(req, res).catch(() => (res.headersSent ? res.destroy() : sendText(res, 500, 'Internal error\n')));
	};
}

/**
 * Listens on `port`; when it is busy, tries the next ones, then any free port, unless
 * `strict`: then a busy port is an error (EADDRINUSE) at once.
 * @param {import('node:http').Server} server
 * @param {number} port
 * @param {boolean} strict
 * @returns {Promise<number>} the port in use
 */
async function listen(server, port, strict) {
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
			if (code !== 'EADDRINUSE' || candidate === 0 || strict) throw error;
		}
	}
}

/**
 * @typedef {{
 *   port?: number,
 *   strictPort?: boolean,
 *   root?: string,
 *   capture?: string,
 *   relayOrigins?: readonly string[],
 *   signalingOrigins?: readonly string[],
 *   maxConnections?: number,
 *   maxConnectionsPerAddress?: number,
 *   headersTimeout?: number,
 *   requestTimeout?: number
 * }} ServerOptions
 * `port` defaults to 5173 (0: any free port); `strictPort`: a busy port is an error
 * (EADDRINUSE) instead of a move to the next free one (the test server: its clients
 * expect that port); `root` to the build/ directory next to this
 * file's parent; `capture`: a file that receives every signaling message relayed, one per
 * line (tests check it holds no record data). `relayOrigins`: page origins of other
 * servers allowed to use the relay; `signalingOrigins`: signaling servers the served app
 * may reach besides its own. `maxConnections`, `maxConnectionsPerAddress`: the relay's
 * WebSocket limits (server/signaling.js). `headersTimeout`, `requestTimeout` (ms): how long
 * a client may take to send a request's headers, and the whole request.
 */

/**
 * Starts the clinic's server on 127.0.0.1.
 * @param {ServerOptions} [options]
 * @returns {Promise<{url: string, port: number, signalingUrl: string, server: import('node:http').Server, signaling: ReturnType<typeof attachSignaling>, close: () => Promise<void>}>}
 */
export async function startServer(options = {}) {
	const {
		port = DEFAULT_PORT,
		root = fileURLToPath(new URL('../build', import.meta.url)),
		capture,
		relayOrigins = [],
		signalingOrigins = [],
		headersTimeout = DEFAULT_HEADERS_TIMEOUT,
		requestTimeout = DEFAULT_REQUEST_TIMEOUT
	} = options;
	if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`port: expected 0-65535, got ${port}`);
	const server = createServer(
		{
			headersTimeout,
			requestTimeout: Math.max(requestTimeout, headersTimeout),
			connectionsCheckingInterval: Math.min(TIMEOUT_CHECK_INTERVAL, headersTimeout)
		},
		createStaticHandler(root, { signalingOrigins })
	);
	server.maxConnections = MAX_SOCKETS;
	if (capture) {
		mkdirSync(dirname(capture), { recursive: true });
		writeFileSync(capture, '');
	}
	const onRelay = capture ? (/** @type {string} */ raw) => appendFileSync(capture, `${raw}\n`) : undefined;
	const signaling = attachSignaling(server, {
		path: SIGNALING_PATH,
		allowedOrigins: relayOrigins,
		...(onRelay ? { onRelay } : {}),
		...(options.maxConnections !== undefined ? { maxConnections: options.maxConnections } : {}),
		...(options.maxConnectionsPerAddress !== undefined ? { maxConnectionsPerAddress: options.maxConnectionsPerAddress } : {})
	});
	const actual = await listen(server, port, options.strictPort ?? false);
	// From now on a failed accept (EMFILE: out of file descriptors) is reported, not thrown.
	server.on('error', (error) => console.error(`server: ${error.message}`));
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
	let relayOrigins, signalingOrigins;
	try {
		relayOrigins = parseOriginList(process.env.RELAY_ORIGINS, ['http:', 'https:'], 'RELAY_ORIGINS');
		signalingOrigins = parseOriginList(process.env.SIGNALING_ORIGINS, ['ws:', 'wss:'], 'SIGNALING_ORIGINS');
	} catch (error) {
		console.error(/** @type {Error} */ (error).message);
		process.exit(1);
	}
	const strictPort = process.env.STRICT_PORT === '1';
	let started;
	try {
		started = await startServer({ port: requested, strictPort, root, relayOrigins, signalingOrigins, ...(capture ? { capture } : {}) });
	} catch (error) {
		if (/** @type {NodeJS.ErrnoException} */ (error).code !== 'EADDRINUSE') throw error;
		console.error(`Port ${requested} is busy (STRICT_PORT=1: no other port is tried).`);
		process.exit(1);
	}
	const { url, port, signalingUrl, close } = started;
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
