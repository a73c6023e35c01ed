/** Shared helpers of the relay tests: the relay in a child process, raw sockets, handshakes and frames, clients, and the check that it still relays. */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { WebSocket } from 'ws';
import type { SignalingStats } from '../../../server/signaling.js';
import type { ServerOptions } from '../../../server/start.js';

export const CHILD = fileURLToPath(new URL('./relay-child.js', import.meta.url));
/** Generous: the machine may be busy with other work. */
export const WAIT_MS = 10_000;

export interface RelayProcess {
	port: number;
	process: ChildProcess;
	stats(): Promise<{ stats: SignalingStats; heapUsed: number }>;
	/** Whether the process still answers (false once it has exited). */
	alive(): Promise<boolean>;
	stop(): Promise<void>;
}

export async function startRelayProcess(options: ServerOptions = {}): Promise<RelayProcess> {
	const child = fork(CHILD, [JSON.stringify(options)], { execArgv: ['--expose-gc'], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
	let stderr = '';
	child.stderr?.on('data', (chunk) => (stderr += String(chunk)));
	const port = await new Promise<number>((resolve, reject) => {
		child.once('message', (m) => resolve((m as { port: number }).port));
		child.once('exit', (code) => reject(new Error(`relay process exited (${code}): ${stderr}`)));
	});
	return {
		port,
		process: child,
		stats: () =>
			new Promise((resolve) => {
				child.once('message', (m) => resolve(m as { stats: SignalingStats; heapUsed: number }));
				child.send('stats');
			}),
		alive: () =>
			new Promise<boolean>((resolve) => {
				if (child.exitCode !== null || child.signalCode !== null || !child.connected) return resolve(false);
				child.once('exit', () => resolve(false));
				child.once('message', () => resolve(true));
				child.send('stats', (error) => error && resolve(false));
			}),
		stop: () =>
			new Promise<void>((resolve) => {
				if (child.exitCode !== null) return resolve();
				child.once('exit', () => resolve());
				child.disconnect();
			})
	};
}

export function withTimeout<T>(promise: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
	let timer: NodeJS.Timeout | undefined;
	const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms)));
	return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function openSocket(port: number, localAddress?: string): Promise<Socket> {
	return new Promise((resolve, reject) => {
		const socket = connect({ port, host: '127.0.0.1', ...(localAddress ? { localAddress } : {}) });
		socket.once('connect', () => resolve(socket));
		socket.once('error', reject);
	});
}

export function upgradeRequest(port: number, headers: Record<string, string> = {}): string {
	const all: Record<string, string> = {
		Host: `127.0.0.1:${port}`,
		Upgrade: 'websocket',
		Connection: 'Upgrade',
		'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
		'Sec-WebSocket-Version': '13',
		...headers
	};
	return `GET /signaling HTTP/1.1\r\n${Object.entries(all)
		.map(([k, v]) => `${k}: ${v}\r\n`)
		.join('')}\r\n`;
}

/** Sends a WebSocket handshake on a raw socket; resolves with the HTTP status of the answer and the socket. */
export async function handshake(
	port: number,
	headers: Record<string, string> = {},
	localAddress?: string
): Promise<{ status: number; socket: Socket }> {
	const socket = await openSocket(port, localAddress);
	socket.on('error', () => {});
	const status = new Promise<number>((resolve, reject) => {
		let head = '';
		const onData = (chunk: Buffer) => {
			head += chunk.toString('latin1');
			if (!head.includes('\r\n')) return;
			socket.off('data', onData);
			resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0));
		};
		socket.on('data', onData);
		socket.once('close', () => reject(new Error('closed before answering the handshake')));
	});
	socket.write(upgradeRequest(port, headers));
	return { status: await withTimeout(status, 'handshake answer'), socket };
}

export function closed(socket: Socket): Promise<void> {
	if (socket.destroyed) return Promise.resolve();
	return withTimeout(new Promise((resolve) => socket.once('close', () => resolve())), 'server closing the socket');
}

/** One WebSocket frame as a client would send it (masked unless told otherwise). */
export function frame(
	opcode: number,
	payload: Uint8Array,
	{ fin = true, rsv = 0, masked = true, claimedLength = payload.length } = {}
): Buffer {
	const first = (fin ? 0x80 : 0) | (rsv << 4) | opcode;
	const mask = masked ? 0x80 : 0;
	let header: Buffer;
	if (claimedLength < 126) header = Buffer.from([first, mask | claimedLength]);
	else if (claimedLength < 65536) header = Buffer.from([first, mask | 126, claimedLength >> 8, claimedLength & 0xff]);
	else {
		header = Buffer.alloc(10);
		header[0] = first;
		header[1] = mask | 127;
		header.writeBigUInt64BE(BigInt(claimedLength), 2);
	}
	if (!masked) return Buffer.concat([header, payload]);
	const key = Buffer.from([0x12, 0x34, 0x56, 0x78]);
	return Buffer.concat([header, key, Buffer.from(payload.map((b, i) => b ^ key[i % 4]!))]);
}

export function openClient(port: number, options: { origin?: string } = {}): Promise<WebSocket> {
	return new Promise((resolve, reject) => {
		const ws = new WebSocket(`ws://127.0.0.1:${port}/signaling`, options);
		ws.once('open', () => resolve(ws));
		ws.once('error', reject);
	});
}

export function nextMessage(ws: WebSocket): Promise<Record<string, unknown>> {
	return withTimeout(new Promise((resolve) => ws.once('message', (m) => resolve(JSON.parse(String(m))))), 'a relayed message');
}

/** Sends `messages` then a ping, and waits for its pong: the relay has handled them all. */
export async function sendAll(ws: WebSocket, messages: unknown[]): Promise<void> {
	const pong = new Promise<void>((resolve) => {
		const onMessage = (m: unknown) => {
			if ((JSON.parse(String(m)) as { type?: string }).type !== 'pong') return;
			ws.off('message', onMessage);
			resolve();
		};
		ws.on('message', onMessage);
	});
	for (const message of messages) ws.send(JSON.stringify(message));
	ws.send(JSON.stringify({ type: 'ping' }));
	await withTimeout(pong, 'pong');
}

/** A normal client still gets through: two peers meet in a fresh room and one hears the other. */
export async function relays(port: number): Promise<void> {
	const a = await openClient(port);
	const b = await openClient(port);
	const topic = randomBytes(20).toString('hex');
	try {
		await sendAll(b, [{ type: 'subscribe', topics: [topic] }]);
		const heard = nextMessage(b);
		a.send(JSON.stringify({ type: 'subscribe', topics: [topic] }));
		a.send(JSON.stringify({ type: 'publish', topic, data: 'sealed offer' }));
		expect(await heard).toEqual({ type: 'publish', topic, data: 'sealed offer', clients: 2 });
	} finally {
		a.terminate();
		b.terminate();
	}
}

export async function stillServes(relay: RelayProcess): Promise<void> {
	expect(relay.process.exitCode).toBeNull();
	await relays(relay.port);
	expect(relay.process.exitCode).toBeNull();
}

/** Waits until the relay process counts no connection (closing is asynchronous). */
export async function drained(relay: RelayProcess): Promise<SignalingStats> {
	const deadline = Date.now() + WAIT_MS;
	for (;;) {
		const { stats } = await relay.stats();
		if (stats.connections === 0 || Date.now() > deadline) return stats;
		await new Promise((resolve) => setTimeout(resolve, 20));
	}
}
