// A y-webrtc signaling relay (same protocol as y-webrtc's bin/server.js: subscribe,
// unsubscribe, publish, ping) attached to an existing HTTP server, so it listens only
// where that server listens (127.0.0.1). It relays encrypted signaling messages between
// peers of a room and sees no ledger data: rooms are hashes, payloads are encrypted
// with the network secret.
import { WebSocketServer } from 'ws';

const PING_MS = 30_000;
const MAX_MESSAGE_BYTES = 64 * 1024;
const MAX_TOPICS_PER_CONN = 32;

/**
 * Serves signaling on `server` for upgrade requests to `path`. `onRelay` sees every
 * message as received (raw text), e.g. to capture traffic in tests.
 * @param {import('node:http').Server} server
 * @param {{ path?: string, onRelay?: (raw: string) => void }} [options]
 * @returns {{ close(): void, stats(): { connections: number, topics: number } }}
 */
export function attachSignaling(server, { path = '/signaling', onRelay } = {}) {
	const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
	/** @type {Map<string, Set<import('ws').WebSocket>>} */
	const topics = new Map();

	/** @param {import('ws').WebSocket} conn @param {Record<string, unknown>} message */
	const send = (conn, message) => {
		if (conn.readyState > 1) return conn.close();
		try {
			conn.send(JSON.stringify(message));
		} catch {
			conn.close();
		}
	};

	wss.on('connection', (/** @type {import('ws').WebSocket} */ conn) => {
		/** @type {Set<string>} */
		const subscribed = new Set();
		let alive = true;
		const ping = setInterval(() => {
			if (!alive) return conn.terminate();
			alive = false;
			try {
				conn.ping();
			} catch {
				conn.close();
			}
		}, PING_MS);
		conn.on('pong', () => (alive = true));
		conn.on('close', () => {
			clearInterval(ping);
			for (const topic of subscribed) {
				const subs = topics.get(topic);
				subs?.delete(conn);
				if (subs?.size === 0) topics.delete(topic);
			}
		});
		conn.on('message', (/** @type {import('ws').RawData} */ raw) => {
			let message;
			onRelay?.(String(raw));
			try {
				message = JSON.parse(String(raw));
			} catch {
				return;
			}
			if (!message || typeof message.type !== 'string') return;
			switch (message.type) {
				case 'subscribe':
					for (const topic of Array.isArray(message.topics) ? message.topics : []) {
						if (typeof topic !== 'string' || subscribed.size >= MAX_TOPICS_PER_CONN) continue;
						const subs = topics.get(topic) ?? new Set();
						topics.set(topic, subs);
						subs.add(conn);
						subscribed.add(topic);
					}
					break;
				case 'unsubscribe':
					for (const topic of Array.isArray(message.topics) ? message.topics : []) {
						topics.get(topic)?.delete(conn);
						subscribed.delete(topic);
					}
					break;
				case 'publish': {
					const receivers = typeof message.topic === 'string' ? topics.get(message.topic) : undefined;
					if (!receivers || !subscribed.has(message.topic)) break;
					message.clients = receivers.size;
					for (const receiver of receivers) send(receiver, message);
					break;
				}
				case 'ping':
					send(conn, { type: 'pong' });
			}
		});
	});

	/** @param {import('node:http').IncomingMessage} request @param {import('node:stream').Duplex} socket @param {Buffer} head */
	const onUpgrade = (request, socket, head) => {
		const url = new URL(request.url ?? '/', 'http://localhost');
		if (url.pathname !== path) return socket.destroy();
		wss.handleUpgrade(request, socket, head, (/** @type {import('ws').WebSocket} */ ws) => wss.emit('connection', ws, request));
	};
	server.on('upgrade', onUpgrade);
	return {
		close() {
			server.off('upgrade', onUpgrade);
			for (const client of wss.clients) client.terminate();
			wss.close();
		},
		stats: () => ({ connections: wss.clients.size, topics: topics.size })
	};
}
