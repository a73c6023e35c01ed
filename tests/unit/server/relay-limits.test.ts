// The relay's limits: connections in total and per address (the server in a child process,
// tests/unit/server/relay-child.js, reached with raw sockets), and the message rate per
// connection (the relay in this process, with an injected clock).
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attachSignaling, MESSAGE_BURST, MESSAGES_PER_SECOND } from '../../../server/signaling.js';
import {
	drained,
	handshake,
	openClient,
	sendAll,
	startRelayProcess,
	stillServes,
	withTimeout,
	type RelayProcess
} from './relay-support.js';

describe('connection limits in total and per address', { timeout: 30_000 }, () => {
	let relay: RelayProcess;
	beforeAll(async () => {
		relay = await startRelayProcess({ maxConnections: 8, maxConnectionsPerAddress: 5 });
	});
	afterAll(() => relay.stop());

	it('refuses a sixth connection from one address and a ninth in total', async () => {
		const sockets: Socket[] = [];
		const open = async (localAddress: string) => {
			const { status, socket } = await handshake(relay.port, {}, localAddress);
			sockets.push(socket);
			return status;
		};
		for (let i = 0; i < 5; i++) expect(await open('127.0.0.1')).toBe(101);
		expect(await open('127.0.0.1')).toBe(503);
		for (let i = 0; i < 3; i++) expect(await open('127.0.0.2')).toBe(101);
		expect(await open('127.0.0.3')).toBe(503);
		expect((await relay.stats()).stats.refused.capacity).toBe(2);
		for (const socket of sockets) socket.destroy();
		expect((await drained(relay)).connections).toBe(0);
		await stillServes(relay);
	});
});

describe('message rate per connection (injected clock)', () => {
	let server: Server;
	let port: number;
	let clock: () => number;
	let relay: ReturnType<typeof attachSignaling>;
	beforeAll(async () => {
		server = createServer();
		relay = attachSignaling(server, { now: () => clock() });
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		port = (server.address() as { port: number }).port;
	});
	afterAll(() => {
		relay.close();
		server.close();
	});

	it('closes a connection that sends more than its burst at once (1008), and only that one', async () => {
		clock = () => 0;
		const bystander = await openClient(port);
		const flooder = await openClient(port);
		const code = new Promise<number>((resolve) => flooder.once('close', (c) => resolve(c)));
		for (let i = 0; i <= MESSAGE_BURST; i++) flooder.send('{"type":"ping"}');
		expect(await withTimeout(code, 'rate limit close')).toBe(1008);
		expect(relay.stats().closed.rate).toBe(1);
		await sendAll(bystander, []);
		bystander.terminate();
	});

	it('never limits a client that stays within the rate, however long it goes on', async () => {
		let t = 0;
		// Each message reads the clock once: exactly the rate's spacing between messages.
		clock = () => (t += 1000 / MESSAGES_PER_SECOND);
		const steady = await openClient(port);
		const before = relay.stats().closed.rate;
		await sendAll(
			steady,
			Array.from({ length: MESSAGE_BURST * 3 }, () => ({ type: 'publish', topic: 'none' }))
		);
		expect(relay.stats().closed.rate).toBe(before);
		steady.terminate();
	});
});
