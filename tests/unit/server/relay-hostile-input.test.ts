// The signaling relay under hostile input: any web page in a clinic's browser can reach
// it on 127.0.0.1. The server runs in a child process (tests/unit/server/relay-child.js), so a
// crash is an exit code; after each attack the process must be alive and relay for a
// normal client. Raw sockets (`net`) send what no WebSocket library would.
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_CONNECTIONS_PER_ADDRESS, MAX_TOPIC_LENGTH, MAX_TOPICS_PER_CONN, MESSAGE_BURST } from '../../../server/signaling.js';
import type { ServerOptions } from '../../../server/start.js';
import {
	closed,
	drained,
	frame,
	handshake,
	openClient,
	openSocket,
	sendAll,
	startRelayProcess,
	stillServes,
	upgradeRequest,
	type RelayProcess
} from './relay-support.js';

const text = (s: string) => new TextEncoder().encode(s);

/** Every class of frame RFC 6455 makes a protocol error, and a few the relay must bound. */
const MALFORMED: [string, Buffer][] = [
	['oversize (64 KiB + 1 announced)', frame(0x1, new Uint8Array(16), { claimedLength: 64 * 1024 + 1 })],
	[
		'oversize (2^63 - 1 announced)',
		Buffer.concat([Buffer.from([0x81, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), Buffer.alloc(4)])
	],
	['unmasked client frame', frame(0x1, text('{"type":"ping"}'), { masked: false })],
	['bad UTF-8 text', frame(0x1, new Uint8Array([0x7b, 0xc3, 0x28, 0x7d]))],
	['UTF-8 surrogate in text', frame(0x1, new Uint8Array([0xed, 0xa0, 0x80]))],
	['reserved data opcode 3', frame(0x3, text('x'))],
	['reserved control opcode 0xB', frame(0xb, text('x'))],
	['RSV1 without an extension', frame(0x1, text('{}'), { rsv: 4 })],
	['RSV2 and RSV3', frame(0x1, text('{}'), { rsv: 3 })],
	['fragmented control frame (ping without FIN)', frame(0x9, text('x'), { fin: false })],
	['control frame over 125 bytes', frame(0x9, new Uint8Array(126))],
	['continuation without a first fragment', frame(0x0, text('x'))],
	['new data frame inside a fragmented message', Buffer.concat([frame(0x1, text('{"ty'), { fin: false }), frame(0x1, text('pe"}'))])],
	[
		'fragments adding up past 64 KiB',
		Buffer.concat([frame(0x2, new Uint8Array(40_000), { fin: false }), frame(0x0, new Uint8Array(40_000))])
	],
	['close frame with an invalid code', frame(0x8, new Uint8Array([0x03, 0xe7]))],
	['close frame with a 1-byte body', frame(0x8, new Uint8Array([0x03]))],
	['close frame with a bad UTF-8 reason', frame(0x8, new Uint8Array([0x03, 0xe8, 0xff]))]
];

describe('the relay in its own process', { timeout: 30_000 }, () => {
	const options: ServerOptions = { relayOrigins: ['https://clinic.example'], headersTimeout: 1000, requestTimeout: 2000 };
	let relay: RelayProcess;
	beforeAll(async () => {
		relay = await startRelayProcess(options);
	});
	// A test that crashed the relay leaves the next one a fresh process, so each test stands alone.
	beforeEach(async () => {
		if (!(await relay.alive())) relay = await startRelayProcess(options);
	});
	afterAll(() => relay.stop());

	it.each(MALFORMED)('survives a %s, closes that connection and keeps relaying', async (_, bytes) => {
		const { status, socket } = await handshake(relay.port);
		expect(status).toBe(101);
		socket.write(bytes);
		await closed(socket);
		await stillServes(relay);
	});

	it.each([
		['a truncated frame header, then the client closes', (socket: Socket) => socket.end()],
		['a truncated frame header, then the client resets the connection', (socket: Socket) => socket.resetAndDestroy()]
	])('survives %s', async (_, leave) => {
		const { status, socket } = await handshake(relay.port);
		expect(status).toBe(101);
		socket.write(Buffer.from([0x81, 0xfe, 0x01]));
		leave(socket);
		await closed(socket);
		await stillServes(relay);
		expect((await drained(relay)).connections).toBe(0);
	});

	it('survives a reset in the middle of the handshake and requests with URLs that do not parse', async () => {
		const half = await openSocket(relay.port);
		half.write(upgradeRequest(relay.port).slice(0, 40));
		half.resetAndDestroy();
		for (const path of ['http://[', '//[::1']) {
			for (const request of [`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`, upgradeRequest(relay.port).replace('/signaling', path)]) {
				const socket = await openSocket(relay.port);
				socket.on('error', () => {});
				socket.write(request);
				socket.on('data', () => socket.end());
				await closed(socket);
			}
		}
		await stillServes(relay);
	});

	it('accepts its own loopback pages, listed origins and clients without Origin; refuses other pages', async () => {
		const port = relay.port;
		const cases: [Record<string, string>, number][] = [
			[{}, 101],
			[{ Origin: `http://127.0.0.1:${port}` }, 101],
			[{ Origin: `http://localhost:${port}`, Host: `localhost:${port}` }, 101],
			[{ Origin: 'https://clinic.example' }, 101],
			[{ Origin: 'https://evil.example' }, 403],
			[{ Origin: 'null' }, 403],
			[{ Origin: `http://127.0.0.1:${port + 1}` }, 403],
			[{ Origin: 'https://clinic.example.evil.example' }, 403],
			[{ Origin: 'not a url' }, 403],
			// DNS rebinding: a hostile name pointed at 127.0.0.1 sends matching Origin and Host.
			[{ Origin: `http://rebind.example:${port}`, Host: `rebind.example:${port}` }, 403]
		];
		for (const [headers, expected] of cases) {
			const { status, socket } = await handshake(port, headers);
			expect(status, JSON.stringify(headers)).toBe(expected);
			socket.destroy();
		}
		expect((await relay.stats()).stats.refused.origin).toBeGreaterThanOrEqual(6);
		await stillServes(relay);
	});

	it('closes connections that send partial headers slowly (slowloris) while serving others', async () => {
		const slow = await Promise.all([openSocket(relay.port), openSocket(relay.port)]);
		slow[0]!.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n');
		slow[1]!.write(upgradeRequest(relay.port).slice(0, 60));
		for (const socket of slow) socket.on('error', () => {});
		// A byte every 100 ms keeps the socket busy but never finishes the headers.
		const drip = setInterval(() => slow.forEach((s) => s.writable && s.write('X-Slow: 1\r\n')), 100);
		try {
			await stillServes(relay);
			await Promise.all(slow.map(closed));
		} finally {
			clearInterval(drip);
		}
		await stillServes(relay);
	});

	it('bounds what one connection can subscribe: topic count and topic length', async () => {
		const flooders = await Promise.all(Array.from({ length: 4 }, () => openClient(relay.port)));
		const long = 'x'.repeat(MAX_TOPIC_LENGTH + 1);
		await Promise.all(
			flooders.map((ws, n) =>
				sendAll(ws, [
					{ type: 'subscribe', topics: [long, 'y'.repeat(MAX_TOPIC_LENGTH) + n] },
					{ type: 'subscribe', topics: Array.from({ length: 5000 }, (_, i) => `${n}-${i}`) },
					{ type: 'subscribe', topics: [{}, 7, null] },
					{ type: 'subscribe', topics: 'not a list' }
				])
			)
		);
		const { stats } = await relay.stats();
		expect(stats.topics).toBe(flooders.length * MAX_TOPICS_PER_CONN);
		// The topic over the length limit was refused everywhere; one at the limit was kept.
		const spy = await openClient(relay.port);
		await sendAll(spy, [{ type: 'subscribe', topics: [long] }]);
		expect((await relay.stats()).stats.topics).toBe(flooders.length * MAX_TOPICS_PER_CONN);
		for (const ws of [...flooders, spy]) ws.terminate();
		expect((await drained(relay)).topics).toBe(0);
		await stillServes(relay);
	});

	it('keeps no topic and no memory after 1,500 subscribe/unsubscribe cycles', async () => {
		const before = await drained(relay);
		expect(before.topics).toBe(0);
		const baseline = (await relay.stats()).heapUsed;
		// Spread over connections so that no one of them exceeds its message budget.
		const clients = await Promise.all(Array.from({ length: 10 }, () => openClient(relay.port)));
		const cycles = 1500;
		await Promise.all(
			clients.map((ws, c) => {
				const messages = [];
				for (let i = c; i < cycles; i += clients.length) {
					const topics = Array.from({ length: MAX_TOPICS_PER_CONN }, (_, t) => `${i}-${t}-`.padEnd(MAX_TOPIC_LENGTH, 'r'));
					messages.push({ type: 'subscribe', topics }, { type: 'unsubscribe', topics });
				}
				expect(messages.length).toBeLessThan(MESSAGE_BURST);
				return sendAll(ws, messages);
			})
		);
		const during = await relay.stats();
		expect(during.stats.topics).toBe(0);
		expect(during.stats.closed.rate).toBe(0);
		for (const ws of clients) ws.terminate();
		expect((await drained(relay)).topics).toBe(0);
		const after = (await relay.stats()).heapUsed;
		// 48,000 topics of 256 characters kept would be over 12 MB.
		expect(after - baseline).toBeLessThan(3 * 1024 * 1024);
		await stillServes(relay);
	});

	it('drops messages to a subscriber that does not read, instead of buffering them', async () => {
		const topic = randomBytes(20).toString('hex');
		const { status, socket: stalled } = await handshake(relay.port);
		expect(status).toBe(101);
		stalled.write(frame(0x1, text(JSON.stringify({ type: 'subscribe', topics: [topic] }))));
		stalled.pause();
		const publisher = await openClient(relay.port);
		const data = 'x'.repeat(60_000);
		// 9 MB through a reader that takes none: more than the kernel buffers hold. In
		// batches of 600 kB, each closed by a ping: the publisher (a subscriber too) gets its
		// own messages back, and a client over 1 MiB behind would have its pong dropped as well.
		await sendAll(publisher, [{ type: 'subscribe', topics: [topic] }]);
		for (let batch = 0; batch < 15; batch++)
			await sendAll(
				publisher,
				Array.from({ length: 10 }, () => ({ type: 'publish', topic, data }))
			);
		expect((await relay.stats()).stats.dropped).toBeGreaterThan(0);
		publisher.terminate();
		stalled.destroy();
		expect((await drained(relay)).topics).toBe(0);
		await stillServes(relay);
	});

	it('counts connections per address and refuses the excess, then recovers', async () => {
		const extra = 20;
		const sockets: Socket[] = [];
		const statuses: number[] = [];
		for (let i = 0; i < DEFAULT_MAX_CONNECTIONS_PER_ADDRESS + extra; i++) {
			const { status, socket } = await handshake(relay.port);
			statuses.push(status);
			sockets.push(socket);
		}
		expect(statuses.filter((s) => s === 101)).toHaveLength(DEFAULT_MAX_CONNECTIONS_PER_ADDRESS);
		expect(statuses.filter((s) => s === 503)).toHaveLength(extra);
		await expect(openClient(relay.port)).rejects.toThrow(/503/);
		for (const socket of sockets) socket.destroy();
		expect((await drained(relay)).connections).toBe(0);
		await stillServes(relay);
	});
});
