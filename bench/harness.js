// The machinery bench/run.js and bench/profile.js share: a Vite dev server over the repo
// (TypeScript from src/lib/core transformed on the fly, and loadable into Node through
// `ssrLoadModule`) and Debian's Chromium, through playwright-core, on bench/browser/.
import { createServer as createNetServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { createServer } from 'vite';
import { chromiumArgs, chromiumPath } from '../scripts/chromium.js';

export const root = fileURLToPath(new URL('..', import.meta.url));

function freePort() {
	return new Promise((resolve, reject) => {
		const probe = createNetServer();
		probe.once('error', reject);
		probe.listen(0, '127.0.0.1', () => {
			const { port } = probe.address();
			probe.close(() => resolve(port));
		});
	});
}

/** A Vite dev server on 127.0.0.1 and a free port, serving the repository. */
export async function startServer() {
	const port = await freePort();
	const server = await createServer({
		root,
		configFile: false,
		logLevel: 'warn',
		clearScreen: false,
		server: {
			host: '127.0.0.1',
			port,
			strictPort: true,
			hmr: false,
			watch: null,
			fs: { allow: [root] },
			// Cross-origin isolation gives performance.now() 5 µs resolution instead of 100 µs.
			headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' }
		},
		// Pre-bundle every dependency up front: one discovered mid-run would reload the page.
		optimizeDeps: {
			noDiscovery: true,
			include: ['yjs', 'y-indexeddb', 'idb', 'cborg', '@noble/hashes/sha2.js', '@noble/curves/ed25519.js', '@noble/curves/utils.js']
		}
	});
	await server.listen();
	return { server, url: `http://127.0.0.1:${port}` };
}

/**
 * Headless Chromium on the benchmark page, its console forwarded to stderr. Returns
 * `close()`, the page, and `inPage(suite, params, timeoutMs)` which runs one suite of
 * bench/browser/bench.ts and resolves with its result. With `userDataDir` the profile
 * (and its IndexedDB) lives in that directory and survives `close()`.
 */
export async function openBenchPage(url, { userDataDir } = {}) {
	const options = { executablePath: chromiumPath(), args: chromiumArgs, headless: true };
	let context;
	let browser;
	if (userDataDir) {
		context = await chromium.launchPersistentContext(userDataDir, options);
		browser = context.browser();
	} else {
		browser = await chromium.launch(options);
		context = await browser.newContext();
	}
	const page = await context.newPage();
	page.on('console', (message) => {
		const text = message.text();
		if (!text.startsWith('[vite]')) process.stderr.write(`${text}\n`);
	});
	page.on('pageerror', (error) => process.stderr.write(`[page error] ${error.stack ?? error.message}\n`));
	await page.goto(`${url}/bench/browser/index.html`);
	await page.waitForFunction(() => typeof window.runBench === 'function', null, { timeout: 120_000 });

	async function inPage(name, params = {}, timeoutMs = 300_000) {
		let timer;
		const timeout = new Promise((_, reject) => {
			timer = setTimeout(() => reject(new Error(`suite ${name} timed out after ${timeoutMs / 1000} s`)), timeoutMs);
		});
		try {
			return await Promise.race([page.evaluate(([n, p]) => window.runBench(n, p), [name, params]), timeout]);
		} finally {
			clearTimeout(timer);
		}
	}
	const version = browser?.version() ?? 'unknown';
	const close = () => (userDataDir ? context.close() : browser.close());
	return { version, close, page, inPage };
}
