// The machinery of the sync benchmarks: the bench page built by Vite (programmatically,
// as bench/harness.js does, but a production bundle: y-webrtc's CommonJS simple-peer
// needs Vite's bundling, and five browsers load one file faster than hundreds of
// modules), served with the clinic's own server (server/start.js: static files plus the
// y-webrtc signaling relay, both on 127.0.0.1), and clinic nodes, each its own Chromium
// process on its own on-disk profile.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { build } from 'vite';
import { chromiumArgs, chromiumPath } from '../../scripts/chromium.js';
import { startServer } from '../../server/start.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Wall-clock milliseconds with sub-ms resolution: Node and every page read the same machine clock. */
export const epochNow = () => performance.timeOrigin + performance.now();

/** Builds bench/sync/page into a temporary directory and serves it with server/start.js on 127.0.0.1. */
export async function servePage() {
	const outDir = mkdtempSync(join(tmpdir(), 'clinic-sync-bench-page-'));
	await build({
		root: join(root, 'bench/sync/page'),
		configFile: false,
		logLevel: 'warn',
		base: './',
		resolve: { alias: { $lib: join(root, 'src/lib') } },
		// Not minified: profiles and stack traces keep the core's function names.
		build: { outDir, emptyOutDir: true, target: 'esnext', minify: false, reportCompressedSize: false, chunkSizeWarningLimit: 4096 }
	});
	const server = await startServer({ port: 0, root: outDir });
	return {
		url: server.url,
		signalingUrl: server.signalingUrl,
		close: async () => {
			await server.close();
			rmSync(outDir, { recursive: true, force: true });
		}
	};
}

/** Every node launched and not yet closed, so a failed run still closes them all. */
const running = new Set();

/**
 * A clinic node: one Chromium process (launchPersistentContext: its own process like
 * chromium.launch, with an on-disk profile so IndexedDB writes reach the disk as in a
 * clinic's browser; Playwright's default contexts keep IndexedDB in memory) on the bench
 * page. `call(name, params)` runs `window.syncBench(name, params)` in it.
 */
export async function launchNode(name, url, { log = () => {} } = {}) {
	const dir = mkdtempSync(join(tmpdir(), `clinic-sync-bench-${name}-`));
	const context = await chromium.launchPersistentContext(dir, {
		executablePath: chromiumPath(),
		// Precise memory info: performance.memory is otherwise rounded and updated rarely.
		args: [...chromiumArgs, '--enable-precise-memory-info'],
		headless: true
	});
	const node = {
		name,
		/** The node's profile directory (its processes name it: bench/sync/cpu.js). */
		dir,
		context,
		version: context.browser()?.version() ?? 'unknown',
		page: context.pages()[0] ?? (await context.newPage()),
		/** Page clock minus Node clock (ms), set by {@link measureClock}. */
		offset: 0,
		async call(call, params = {}, timeoutMs = 120_000) {
			let timer;
			const timeout = new Promise((_, reject) => {
				timer = setTimeout(() => reject(new Error(`${name}: ${call} timed out after ${timeoutMs / 1000} s`)), timeoutMs);
			});
			try {
				return await Promise.race([node.page.evaluate(([c, p]) => window.syncBench(c, p), [call, params]), timeout]);
			} finally {
				clearTimeout(timer);
			}
		},
		/** A page timestamp on Node's clock. */
		toNode: (pageTime) => pageTime - node.offset,
		async close() {
			if (!running.delete(node)) return;
			await context.close().catch(() => {});
			rmSync(dir, { recursive: true, force: true });
		}
	};
	running.add(node);
	node.page.on('console', (message) => {
		const text = message.text();
		if (message.type() === 'error' || message.type() === 'warning') log(`[${name}] ${text}`);
	});
	node.page.on('pageerror', (error) => log(`[${name}] page error: ${error.stack ?? error.message}`));
	await node.page.goto(`${url}index.html`);
	await node.page.waitForFunction(() => typeof window.syncBench === 'function', null, { timeout: 60_000 });
	return node;
}

/** Closes every node still running. */
export async function closeAll() {
	await Promise.all([...running].map((node) => node.close()));
}

/**
 * Estimates the offset between the page's clock (performance.timeOrigin + now()) and
 * Node's: the sample with the shortest round trip, offset = page time minus the
 * round trip's midpoint. Returns the round trip, which bounds the error (± rtt / 2).
 */
export async function measureClock(node, samples = 15) {
	let best = null;
	for (let i = 0; i < samples; i++) {
		const before = epochNow();
		const pageTime = await node.page.evaluate(() => performance.timeOrigin + performance.now());
		const after = epochNow();
		if (!best || after - before < best.rtt) best = { rtt: after - before, offset: pageTime - (before + after) / 2 };
	}
	node.offset = best.offset;
	return best;
}

/** Starts the V8 sampling profiler in the node's page; the returned function stops it and returns the profile. */
export async function startProfile(node, intervalUs = 200) {
	const cdp = await node.context.newCDPSession(node.page);
	await cdp.send('Profiler.enable');
	await cdp.send('Profiler.setSamplingInterval', { interval: intervalUs });
	await cdp.send('Profiler.start');
	return async () => {
		const { profile } = await cdp.send('Profiler.stop');
		await cdp.detach();
		return profile;
	};
}

/** Self time (ms) per function of a V8 CPU profile, largest first. */
export function selfTimes(profile) {
	const byId = new Map(profile.nodes.map((n) => [n.id, n]));
	const totals = new Map();
	for (let i = 0; i < profile.samples.length; i++) {
		const frame = byId.get(profile.samples[i]).callFrame;
		const file = frame.url.split('/').pop() || '';
		const key = `${frame.functionName || '(anonymous)'}${file ? ` ${file}:${frame.lineNumber + 1}` : ''}`;
		totals.set(key, (totals.get(key) ?? 0) + (profile.timeDeltas[i + 1] ?? 0) / 1000);
	}
	return [...totals].sort((a, b) => b[1] - a[1]).map(([fn, ms]) => ({ fn, ms }));
}
