import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseOriginList } from '../../../server/origins.js';
import { startServer } from '../../../server/start.js';
import svelteConfig from '../../../svelte.config.js';

/** A raw GET: the path is sent as written, so traversal attempts reach the server unnormalized. */
function get(
	url: string,
	path: string,
	method = 'GET'
): Promise<{ status: number; type: string | undefined; body: string; headers: import('node:http').IncomingHttpHeaders }> {
	return new Promise((resolve, reject) => {
		const req = request(new URL(url), { path, method }, (res) => {
			let body = '';
			res.setEncoding('utf8');
			res.on('data', (chunk: string) => (body += chunk));
			res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body, headers: res.headers }));
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
		for (const path of [
			'/../secret.txt',
			'/%2e%2e/secret.txt',
			'/..%2fsecret.txt',
			'/_app/../../secret.txt',
			'/%2e%2e%5csecret.txt',
			'/.env',
			'/%00',
			'/%E0%A4%A'
		]) {
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

/** Directive name → its sources, from a policy header. */
function directives(policy: string | undefined): Map<string, string[]> {
	return new Map(
		(policy ?? '')
			.split(';')
			.map((part) => part.trim().split(/\s+/))
			.filter((words) => words[0])
			.map(([name, ...values]) => [name!, values])
	);
}

describe('security headers of the served app', () => {
	const root = mkdtempSync(join(tmpdir(), 'clinic-headers-'));
	const hash = "'sha256-rHEoEvdjiXv3awGW4C6lE22gQrhPHDwCF3TS1YGbEjY='";
	// What SvelteKit writes into build/index.html from svelte.config.js's kit.csp.
	const meta = `<meta http-equiv="content-security-policy" content="default-src 'self'; connect-src 'self' ws://127.0.0.1:* ws://localhost:*; object-src 'none'; script-src 'self' ${hash}; base-uri 'self'">`;
	let server: Awaited<ReturnType<typeof startServer>>;

	beforeAll(async () => {
		mkdirSync(join(root, '_app'), { recursive: true });
		writeFileSync(join(root, 'index.html'), `<!doctype html><head>${meta}<title>app</title></head>`);
		writeFileSync(join(root, '_app', 'start.js'), 'export {}');
		server = await startServer({ port: 0, root, signalingOrigins: ['wss://relay.example'] });
	});
	afterAll(() => server.close());

	it('sends the page policy as a header, with the configured signaling servers added and framing forbidden, and takes it out of the page', async () => {
		for (const path of ['/', '/index.html', '/records/1']) {
			const page = await get(server.url, path);
			expect(page.body, path).not.toContain('content-security-policy');
			expect(page.body, path).toContain('<title>app</title>');
			expect(Number(page.headers['content-length']), path).toBe(Buffer.byteLength(page.body));
			const policy = directives(page.headers['content-security-policy'] as string);
			expect(policy.get('connect-src'), path).toEqual(["'self'", 'ws://127.0.0.1:*', 'ws://localhost:*', 'wss://relay.example']);
			expect(policy.get('script-src'), path).toEqual(["'self'", hash]);
			expect(policy.get('frame-ancestors'), path).toEqual(["'none'"]);
			expect(policy.get('object-src'), path).toEqual(["'none'"]);
		}
		// Scripts carry the same policy: a worker runs under its script's response policy.
		const script = await get(server.url, '/_app/start.js');
		expect(directives(script.headers['content-security-policy'] as string).get('connect-src')).toEqual([
			"'self'",
			'ws://127.0.0.1:*',
			'ws://localhost:*',
			'wss://relay.example'
		]);
	});

	it('sends Permissions-Policy, nosniff, no-referrer and no framing on every response, errors included', async () => {
		for (const path of ['/', '/_app/start.js', '/missing.js', '/..%2fx']) {
			const { headers } = await get(server.url, path);
			expect(headers['permissions-policy'], path).toMatch(/(^|, )camera=\(self\)(,|$)/);
			for (const feature of ['microphone', 'geolocation', 'payment', 'usb'])
				expect(headers['permissions-policy'], path).toContain(`${feature}=()`);
			expect(headers['x-content-type-options'], path).toBe('nosniff');
			expect(headers['referrer-policy'], path).toBe('no-referrer');
			expect(headers['x-frame-options'], path).toBe('DENY');
			expect(directives(headers['content-security-policy'] as string).get('frame-ancestors'), path).toEqual(["'none'"]);
		}
	});

	it('answers a request whose URL does not parse with 400, and keeps serving', async () => {
		expect((await get(server.url, 'http://[')).status).toBe(400);
		expect((await get(server.url, '/')).status).toBe(200);
	});

	it('builds the app with connect-src limited to its own origin and relays on this machine', () => {
		const connect = svelteConfig.kit?.csp?.directives?.['connect-src'];
		expect(connect).toEqual(['self', 'ws://127.0.0.1:*', 'ws://localhost:*']);
	});
});

describe('origin lists from the environment', () => {
	it('accepts bare origins separated by spaces or commas, normalized and without duplicates', () => {
		expect(
			parseOriginList(' wss://Relay.Example, ws://10.0.0.2:4444\nwss://relay.example:443 ', ['ws:', 'wss:'], 'SIGNALING_ORIGINS')
		).toEqual(['wss://relay.example', 'ws://10.0.0.2:4444']);
		expect(parseOriginList(undefined, ['http:', 'https:'], 'RELAY_ORIGINS')).toEqual([]);
		expect(parseOriginList('', ['http:', 'https:'], 'RELAY_ORIGINS')).toEqual([]);
	});

	it('refuses anything that is not a bare origin of the expected schemes, naming the list', () => {
		for (const bad of [
			'relay.example',
			'https://relay.example',
			'wss://relay.example/',
			'wss://relay.example/signaling',
			'wss://relay.example?x=1',
			'wss://relay.example#x',
			'wss://user@relay.example',
			'*',
			'ws:'
		]) {
			expect(() => parseOriginList(bad, ['ws:', 'wss:'], 'SIGNALING_ORIGINS'), bad).toThrow(/^SIGNALING_ORIGINS: /);
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
		// The relay handles a socket's messages in order: its pong after a subscribe says the subscribe is in.
		const subscribed = (ws: InstanceType<typeof WebSocket>) => {
			const pong = new Promise<void>((resolve) => ws.on('message', (m) => JSON.parse(String(m)).type === 'pong' && resolve()));
			ws.send(JSON.stringify({ type: 'subscribe', topics: ['room'] }));
			ws.send(JSON.stringify({ type: 'ping' }));
			return pong;
		};
		await Promise.all([subscribed(a), subscribed(b)]);
		const got = new Promise<unknown>((resolve) => b.once('message', (m) => resolve(JSON.parse(String(m)))));
		a.send(JSON.stringify({ type: 'publish', topic: 'room', data: 'hi' }));
		expect(await got).toMatchObject({ type: 'publish', topic: 'room', data: 'hi', clients: 2 });
		await expect(open(running.url.replace('http', 'ws') + 'elsewhere')).rejects.toThrow();
		a.close();
		b.close();
		await running.close();
	});
});
