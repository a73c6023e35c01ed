// Loads a fixture of bench/node/open-fixture.ts into a fresh browser profile's IndexedDB
// in the app's layout, as tests/e2e/fixtures/seeded-ledger.ts loads its (smaller) one: the
// ledger database at schema 5 (segments with their byId index, summaries, heads, evidence,
// meta, checkpoints, the index folds' rows), the identity record and the network settings.
// Streamed: the page fetches one chunk of 20 segments (10,000 blocks), or of 50,000 index
// rows, at a time and writes it in one transaction, so no message or buffer holds the
// whole ledger.
// Leaves the page on a blank page of the app's origin.
import { createReadStream } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';

const BLANK = '/__open1m/';

/** Chromium's flags for the browser that loads a fixture: the usual ones, local network access checks off. */
export const loaderArgs = (args) => args.map((a) => (a.startsWith('--disable-features=') ? `${a},LocalNetworkAccessChecks` : a));

/**
 * Fills the profile of `page` (on the app's origin `url`) with the fixture in `dir`;
 * `log` reports progress. Leaves the page on a blank page of that origin.
 * @param {import('playwright-core').Page} page
 * @param {string} url
 * @param {string} dir
 * @param {(m: string) => void} log
 */
export async function loadOpenFixture(page, url, dir, log) {
	// The files come from a server of their own (CORS open): a route fulfilled by Playwright
	// passes the body through one DevTools message, too small for a checkpoint of 780 MB. The
	// loading browser needs Chromium's local network access checks off to fetch it from the
	// blank page (see loaderArgs).
	const files = createServer((request, response) => {
		const name = new URL(request.url ?? '/', 'http://x').pathname.slice(1);
		if (!/^(manifest\.json|checkpoint\.bin|chunk-\d+\.(json|bin)|facts-\d+\.json)$/.test(name)) return response.writeHead(404).end();
		response.writeHead(200, { 'Access-Control-Allow-Origin': '*', 'Cross-Origin-Resource-Policy': 'cross-origin' });
		createReadStream(join(dir, name)).pipe(response);
	});
	await new Promise((resolve) => files.listen(0, '127.0.0.1', () => resolve(undefined)));
	const source = `http://127.0.0.1:${/** @type {import('node:net').AddressInfo} */ (files.address()).port}/`;
	await page.route(`**${BLANK}`, (route) =>
		route.fulfill({ body: '<!doctype html><title>open-1m fixture</title>', contentType: 'text/html' })
	);
	try {
		await page.goto(new URL(BLANK, url).href);
		const started = performance.now();
		await page.exposeFunction('openFixtureLog', (m) => log(`${m} (${((performance.now() - started) / 1000).toFixed(0)} s)`));
		await fill(page, source);
	} finally {
		await page.unroute(`**${BLANK}`);
		files.closeAllConnections();
		await new Promise((resolve) => files.close(resolve));
	}
}

/** Writes the databases, in the page, from the files at `source`. */
function fill(page, source) {
	return page.evaluate(async (blank) => {
		const manifest = await fetch(`${blank}manifest.json`).then((r) => r.json());
		const revive = (value) => {
			if (Array.isArray(value)) return value.map(revive);
			if (value && typeof value === 'object') {
				if ('$u8' in value) return Uint8Array.from(atob(value.$u8), (c) => c.charCodeAt(0));
				return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, revive(v)]));
			}
			return value;
		};
		const open = (name, version, upgrade) =>
			new Promise((resolve, reject) => {
				const request = indexedDB.open(name, version);
				request.onupgradeneeded = () => upgrade(request.result);
				request.onsuccess = () => resolve(request.result);
				request.onerror = () => reject(request.error);
			});
		const write = (db, stores, fill) =>
			new Promise((resolve, reject) => {
				const tx = db.transaction(stores, 'readwrite', { durability: 'relaxed' });
				fill(tx);
				tx.oncomplete = () => resolve();
				tx.onerror = () => reject(tx.error);
				tx.onabort = () => reject(tx.error);
			});
		// The schema as the migrations leave it (src/lib/core/storage/indexeddb-schema.ts),
		// with the index folds' rows the fixture carries (built in Node by the app's index
		// engine): the app's first open finds every index at its version and builds none.
		const ledger = await open('clinic-ledger', manifest.schema, (db) => {
			const segments = db.createObjectStore('segments', { autoIncrement: true });
			// Unique until schema 5, which makes the store check ids itself (indexeddb-schema.ts).
			segments.createIndex('byId', 'ids', { unique: manifest.schema < 5, multiEntry: true });
			db.createObjectStore('summaries', { keyPath: 'seg' });
			db.createObjectStore('heads', { keyPath: 'author' });
			db.createObjectStore('evidence', { keyPath: 'id' });
			db.createObjectStore('meta');
			db.createObjectStore('checkpoints', { keyPath: 'position' });
			if (manifest.schema >= 4) db.createObjectStore('facts', { keyPath: ['f', 'k', 'c', 'b', 'n'] });
		});
		let seg = 0;
		for (let c = 0; c < manifest.chunks; c++) {
			const [index, bytes] = await Promise.all([
				fetch(`${blank}chunk-${c}.json`).then((r) => r.json()),
				fetch(`${blank}chunk-${c}.bin`).then((r) => r.arrayBuffer())
			]);
			await write(ledger, ['segments', 'summaries'], (tx) => {
				for (const s of index) {
					const record = {
						ids: s.ids,
						authors: s.authors,
						author: Uint16Array.from(s.author),
						seq: Float64Array.from(s.seq),
						clock: Float64Array.from(s.clock),
						// A copy per segment, as the app stores one (a view would store the whole chunk).
						bytes: new Uint8Array(bytes.slice(s.start, s.end)),
						ends: Uint32Array.from(s.ends),
						vv: Float64Array.from(s.vv),
						vvEnds: Uint32Array.from(s.vvEnds)
					};
					seg++;
					tx.objectStore('segments').add(record, seg);
					tx.objectStore('summaries').add({ ...s.summary, seg });
				}
			});
			if ((c + 1) % 10 === 0 || c === manifest.chunks - 1) await window.openFixtureLog(`loaded ${c + 1}/${manifest.chunks} chunks`);
		}
		for (let c = 0; c < (manifest.facts?.chunks ?? 0); c++) {
			const rows = await fetch(`${blank}facts-${c}.json`).then((r) => r.json());
			await write(ledger, ['facts'], (tx) => {
				for (const row of rows) tx.objectStore('facts').put(revive(row));
			});
			if ((c + 1) % 10 === 0 || c === manifest.facts.chunks - 1)
				await window.openFixtureLog(`loaded ${c + 1}/${manifest.facts.chunks} index files`);
		}
		const state = new Uint8Array(await fetch(`${blank}checkpoint.bin`).then((r) => r.arrayBuffer()));
		if (state.length !== manifest.checkpoint.bytes) throw new Error('checkpoint.bin: wrong size');
		await write(ledger, ['heads', 'meta', 'checkpoints'], (tx) => {
			for (const head of manifest.heads) tx.objectStore('heads').put(head);
			for (const [key, value] of manifest.meta) tx.objectStore('meta').put(revive(value), key);
			tx.objectStore('checkpoints').put({ position: manifest.checkpoint.position, count: manifest.checkpoint.count, state });
		});
		ledger.close();

		const identity = await open('clinic-ledger-identity', 1, (db) => db.createObjectStore('keys'));
		await write(identity, ['keys'], (tx) => tx.objectStore('keys').put(revive(manifest.identity), 'node'));
		identity.close();

		const network = await open('clinic-ledger-network', 1, (db) => db.createObjectStore('config'));
		const secret = Array.from(crypto.getRandomValues(new Uint8Array(32)), (b) => b.toString(16).padStart(2, '0')).join('');
		const config = {
			net: manifest.net,
			secret,
			signaling: [`ws://${location.host}/signaling`],
			name: manifest.name,
			origin: 'founded',
			savedAt: Date.now()
		};
		await write(network, ['config'], (tx) => tx.objectStore('config').put(config, 'network'));
		network.close();
	}, source);
}
