import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../../server/start.js';

/** A raw GET: the path is sent as written, so traversal attempts reach the server unnormalized. */
function get(url: string, path: string, method = 'GET'): Promise<{ status: number; type: string | undefined; body: string }> {
	return new Promise((resolve, reject) => {
		const req = request(new URL(url), { path, method }, (res) => {
			let body = '';
			res.setEncoding('utf8');
			res.on('data', (chunk: string) => (body += chunk));
			res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }));
		});
		req.on('error', reject);
		req.end();
	});
}

describe('startServer', () => {
	const parent = mkdtempSync(join(tmpdir(), 'clinic-server-'));
	const root = join(parent, 'build');
	let server: Awaited<ReturnType<typeof startServer>>;

	beforeAll(async () => {
		mkdirSync(join(root, '_app', 'immutable'), { recursive: true });
		writeFileSync(join(root, 'index.html'), '<!doctype html><title>app</title>');
		writeFileSync(join(root, '_app', 'immutable', 'start.abc.js'), 'export {}');
		writeFileSync(join(root, 'favicon.svg'), '<svg/>');
		writeFileSync(join(root, '.env'), 'SECRET=1');
		writeFileSync(join(parent, 'secret.txt'), 'outside the root');
		server = await startServer({ port: 0, root });
	});
	afterAll(() => server.close());

	it('listens on 127.0.0.1 only', () => {
		expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
		expect(server.server.address()).toMatchObject({ address: '127.0.0.1' });
	});

	it('serves files with their content types and cache rules', async () => {
		const index = await get(server.url, '/');
		expect(index).toMatchObject({ status: 200, type: 'text/html; charset=utf-8' });
		expect(index.body).toContain('<title>app</title>');
		expect((await get(server.url, '/_app/immutable/start.abc.js')).type).toBe('text/javascript; charset=utf-8');
		expect((await get(server.url, '/favicon.svg')).type).toBe('image/svg+xml');
	});

	it('falls back to index.html for app routes, but not for missing files', async () => {
		const route = await get(server.url, '/records/123?tab=notes');
		expect(route.status).toBe(200);
		expect(route.body).toContain('<title>app</title>');
		expect((await get(server.url, '/_app/immutable/missing.js')).status).toBe(404);
	});

	it('never serves anything outside the root, or hidden files', async () => {
		for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/_app/../../secret.txt', '/%2e%2e%5csecret.txt', '/.env', '/%00', '/%E0%A4%A']) {
			const response = await get(server.url, path);
			expect(response.body, path).not.toContain('outside the root');
			expect(response.body, path).not.toContain('SECRET');
		}
		expect((await get(server.url, '/..%2fsecret.txt')).status).toBe(404);
		expect((await get(server.url, '/.env')).status).toBe(404);
	});

	it('answers HEAD without a body and refuses other methods', async () => {
		expect(await get(server.url, '/', 'HEAD')).toMatchObject({ status: 200, body: '' });
		expect((await get(server.url, '/', 'POST')).status).toBe(405);
	});

	it('moves to another port when the requested one is busy', async () => {
		const blocker = createServer();
		await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
		const busy = (blocker.address() as { port: number }).port;
		const second = await startServer({ port: busy, root });
		try {
			expect(second.port).not.toBe(busy);
			expect((await get(second.url, '/')).status).toBe(200);
		} finally {
			await second.close();
			blocker.close();
		}
	});
});

describe('signaling relay', () => {
	it('relays published messages between subscribers of a topic, on 127.0.0.1 only', async () => {
		const { WebSocket } = await import('ws');
		const root = mkdtempSync(join(tmpdir(), 'sig-'));
		writeFileSync(join(root, 'index.html'), '<!doctype html>');
		const running = await startServer({ port: 0, root });
		expect(running.signalingUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/signaling$/);
		const open = (url: string) =>
			new Promise<InstanceType<typeof WebSocket>>((resolve, reject) => {
				const ws = new WebSocket(url);
				ws.once('open', () => resolve(ws));
				ws.once('error', reject);
			});
		const a = await open(running.signalingUrl);
		const b = await open(running.signalingUrl);
		a.send(JSON.stringify({ type: 'subscribe', topics: ['room'] }));
		b.send(JSON.stringify({ type: 'subscribe', topics: ['room'] }));
		await new Promise((r) => setTimeout(r, 50));
		const got = new Promise<unknown>((resolve) => b.once('message', (m) => resolve(JSON.parse(String(m)))));
		a.send(JSON.stringify({ type: 'publish', topic: 'room', data: 'hi' }));
		expect(await got).toMatchObject({ type: 'publish', topic: 'room', data: 'hi', clients: 2 });
		await expect(open(running.url.replace('http', 'ws') + 'elsewhere')).rejects.toThrow();
		a.close();
		b.close();
		await running.close();
	});
});
