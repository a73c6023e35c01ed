// A y-webrtc signaling relay (same protocol as y-webrtc's bin/server.js: subscribe,
// unsubscribe, publish, ping) attached to an existing HTTP server, so it listens only
// where that server listens (127.0.0.1). It relays encrypted signaling messages between
// peers of a room and sees no ledger data: topics are room hashes, payloads are
// encrypted with the network secret.
//
// Any web page the clinic's browser opens can reach 127.0.0.1, so every input is
// hostile until checked: handshakes from foreign origins are refused, connections are
// counted (total and per address), each connection has a message rate, a topic count
// and a topic length, frames are bounded, a slow reader loses messages instead of
// growing the relay's memory, and no socket error can reach the process.
import { WebSocketServer } from 'ws';
import { isOwnLoopbackOrigin } from './origins.js';

const PING_MS = 30_000;
const MAX_MESSAGE_BYTES = 64 * 1024;
export const MAX_TOPICS_PER_CONN = 32;
/** y-webrtc room names (ours are 40 hex); longer topics only cost memory. */
export const MAX_TOPIC_LENGTH = 256;
/**
 * Per-connection message budget (token bucket). A node joining a room of 20 peers sends
 * about 100 signaling messages at once (offer or answer and a few ICE candidates each);
 * steady state is a ping every 15 s.
 */
export const MESSAGE_BURST = 400;
export const MESSAGES_PER_SECOND = 50;
/** A receiver with this much unsent data is not keeping up: messages to it are dropped. */
const MAX_BUFFERED_BYTES = 1024 * 1024;
export const DEFAULT_MAX_CONNECTIONS = 256;
/** Every local browser comes from 127.0.0.1 (and every client behind a proxy from the proxy). */
export const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 128;

/** WebSocket close code for a client that broke the relay's limits (RFC 6455: policy violation). */
const POLICY_VIOLATION = 1008;

/**
 * @typedef {{
 *   connections: number,
 *   topics: number,
 *   refused: { origin: number, capacity: number },
 *   closed: { rate: number, malformed: number },
 *   dropped: number
 * }} SignalingStats
 * `refused`: handshakes turned away (foreign origin; connection limits). `closed`:
 * connections ended for sending too fast or sending frames that break the protocol.
 * `dropped`: messages not delivered to a receiver that was not reading.
 */

/**
 * @typedef {{
 *   path?: string,
 *   onRelay?: (raw: string) => void,
 *   allowedOrigins?: readonly string[],
 *   maxConnections?: number,
 *   maxConnectionsPerAddress?: number,
 *   now?: () => number
 * }} SignalingOptions
 * `path`: where the relay answers upgrades (default /signaling). `onRelay` sees every
 * accepted message as received (raw text), e.g. to capture traffic in tests.
 * `allowedOrigins`: page origins besides this server's own loopback pages that may use
 * the relay; a handshake without Origin (not a browser: the headless peer) is accepted.
 * `now`: clock in ms for the rate limit (tests inject one).
 */

/**
 * Serves signaling on `server` for upgrade requests to `path`.
 * @param {import('node:http').Server} server
 * @param {SignalingOptions} [options]
 * @returns {{ close(): void, stats(): SignalingStats }}
 */
export function attachSignaling(server, options = {}) {
	const {
		path = '/signaling',
		onRelay,
		allowedOrigins = [],
		maxConnections = DEFAULT_MAX_CONNECTIONS,
		maxConnectionsPerAddress = DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
		now = () => performance.now()
	} = options;
	const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES, perMessageDeflate: false });
	// With noServer the WebSocketServer never emits 'error'; the listener keeps it that way if it ever does.
	wss.on('error', () => {});
	/** @type {Map<string, Set<import('ws').WebSocket>>} */
	const topics = new Map();
	/** Open sockets (handshaking or upgraded) per remote address. */
	/** @type {Map<string, number>} */
	const perAddress = new Map();
	let open = 0;
	const counts = { refusedOrigin: 0, refusedCapacity: 0, closedRate: 0, closedMalformed: 0, dropped: 0 };

	/** @param {import('ws').WebSocket} conn @param {Record<string, unknown>} message */
	const send = (conn, message) => {
		if (conn.readyState !== conn.OPEN) return;
		if (conn.bufferedAmount > MAX_BUFFERED_BYTES) {
			counts.dropped++;
			return;
		}
		conn.send(JSON.stringify(message), (error) => error && conn.terminate());
	};

	/** @param {string} topic @param {import('ws').WebSocket} conn */
	const leave = (topic, conn) => {
		const subs = topics.get(topic);
		if (!subs) return;
		subs.delete(conn);
		if (subs.size === 0) topics.delete(topic);
	};

	wss.on('connection', (/** @type {import('ws').WebSocket} */ conn) => {
		/** @type {Set<string>} */
		const subscribed = new Set();
		let alive = true;
		let tokens = MESSAGE_BURST;
		let refilled = now();
		/** Set once the connection broke the rate: what it sends until it is gone is ignored. */
		let limited = false;
		const ping = setInterval(() => {
			if (!alive) return conn.terminate();
			alive = false;
			conn.ping();
		}, PING_MS);
		conn.on('pong', () => (alive = true));
		// ws has already answered the bad frame with a close code (1002, 1007, 1009); the
		// socket is freed now rather than after the closing handshake times out.
		conn.on('error', () => {
			counts.closedMalformed++;
			conn.terminate();
		});
		conn.on('close', () => {
			clearInterval(ping);
			for (const topic of subscribed) leave(topic, conn);
			subscribed.clear();
		});
		conn.on('message', (/** @type {import('ws').RawData} */ raw, /** @type {boolean} */ isBinary) => {
			const t = now();
			tokens = Math.min(MESSAGE_BURST, tokens + ((t - refilled) * MESSAGES_PER_SECOND) / 1000);
			refilled = t;
			if (limited) return;
			if (tokens < 1) {
				limited = true;
				counts.closedRate++;
				conn.close(POLICY_VIOLATION, 'too many messages');
				return;
			}
			tokens -= 1;
			if (isBinary) return;
			const text = String(raw);
			onRelay?.(text);
			let message;
			try {
				message = JSON.parse(text);
			} catch {
				return;
			}
			if (!message || typeof message.type !== 'string') return;
			const listed = Array.isArray(message.topics)
				? message.topics.filter((/** @type {unknown} */ topic) => typeof topic === 'string' && topic.length <= MAX_TOPIC_LENGTH)
				: [];
			switch (message.type) {
				case 'subscribe':
					for (const topic of listed) {
						if (subscribed.size >= MAX_TOPICS_PER_CONN) break;
						const subs = topics.get(topic) ?? new Set();
						topics.set(topic, subs);
						subs.add(conn);
						subscribed.add(topic);
					}
					break;
				case 'unsubscribe':
					for (const topic of listed) {
						if (subscribed.delete(topic)) leave(topic, conn);
					}
					break;
				case 'publish': {
					const receivers = typeof message.topic === 'string' && subscribed.has(message.topic) ? topics.get(message.topic) : undefined;
					if (!receivers) break;
					message.clients = receivers.size;
					for (const receiver of receivers) send(receiver, message);
					break;
				}
				case 'ping':
					send(conn, { type: 'pong' });
			}
		});
	});

	/**
	 * Answers a handshake with an HTTP status instead of upgrading it.
	 * @param {import('node:stream').Duplex} socket @param {403 | 503} status @param {string} reason
	 */
	const refuse = (socket, status, reason) => {
		socket.once('finish', () => socket.destroy());
		socket.end(
			`HTTP/1.1 ${status} ${status === 403 ? 'Forbidden' : 'Service Unavailable'}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(reason) + 1}\r\n\r\n${reason}\n`
		);
	};

	/** @param {import('node:http').IncomingMessage} request */
	const originAllowed = (request) => {
		const origin = request.headers.origin;
		// Browsers always send Origin on a WebSocket handshake and a page cannot remove it;
		// only other programs (the headless peer, y-webrtc in Node) connect without one.
		if (origin === undefined) return true;
		return isOwnLoopbackOrigin(origin, request.headers.host) || allowedOrigins.includes(origin);
	};

	/** @param {import('node:http').IncomingMessage} request @param {import('node:stream').Duplex} socket @param {Buffer} head */
	const onUpgrade = (request, socket, head) => {
		// The HTTP server lets go of an upgraded socket: from here on its errors are ours.
		socket.on('error', () => socket.destroy());
		let pathname;
		try {
			pathname = new URL(request.url ?? '/', 'http://localhost').pathname;
		} catch {
			return socket.destroy();
		}
		if (pathname !== path) return socket.destroy();
		if (!originAllowed(request)) {
			counts.refusedOrigin++;
			return refuse(socket, 403, 'This page may not use the signaling relay.');
		}
		const address = request.socket.remoteAddress ?? '';
		const fromAddress = perAddress.get(address) ?? 0;
		if (open >= maxConnections || fromAddress >= maxConnectionsPerAddress) {
			counts.refusedCapacity++;
			return refuse(socket, 503, 'Too many signaling connections.');
		}
		open++;
		perAddress.set(address, fromAddress + 1);
		socket.once('close', () => {
			open--;
			const left = (perAddress.get(address) ?? 1) - 1;
			if (left === 0) perAddress.delete(address);
			else perAddress.set(address, left);
		});
		wss.handleUpgrade(request, socket, head, (/** @type {import('ws').WebSocket} */ ws) => wss.emit('connection', ws, request));
	};
	server.on('upgrade', onUpgrade);
	return {
		close() {
			server.off('upgrade', onUpgrade);
			for (const client of wss.clients) client.terminate();
			wss.close();
		},
		stats: () => ({
			connections: wss.clients.size,
			topics: topics.size,
			refused: { origin: counts.refusedOrigin, capacity: counts.refusedCapacity },
			closed: { rate: counts.closedRate, malformed: counts.closedMalformed },
			dropped: counts.dropped
		})
	};
}
