/**
 * Benchmarks that run inside Chromium, against real IndexedDB and WebCrypto. `bench/run.js`
 * opens this page and calls `window.runBench(name, params)` once per suite; each suite
 * returns plain numbers (milliseconds, unless the field says otherwise). The suites live
 * in append-suites.ts, batch-suites.ts, verify-suites.ts, open-suites.ts and page-row-suites.ts.
 */
import { detectVerifier } from '../../src/lib/core/index.js';
import { appendSuites } from './append-suites.js';
import { batchSuites } from './batch-suites.js';
import { openSuites } from './open-suites.js';
import { pageRowSuites } from './page-row-suites.js';
import { deleteCreatedDatabases } from './page-databases.js';
import { verifySuites } from './verify-suites.js';

const suites = {
	async info() {
		return {
			userAgent: navigator.userAgent,
			hardwareConcurrency: navigator.hardwareConcurrency,
			crossOriginIsolated: globalThis.crossOriginIsolated,
			detectedVerifier: (await detectVerifier()).name
		};
	},
	...appendSuites,
	...batchSuites,
	...verifySuites,
	...openSuites,
	...pageRowSuites,

	async cleanup() {
		await deleteCreatedDatabases();
		return { ok: true };
	}
};

export type SuiteName = keyof typeof suites;

declare global {
	interface Window {
		runBench(name: string, params?: unknown): Promise<unknown>;
	}
}

window.runBench = async (name, params = {}) => {
	const suite = (suites as Record<string, (p: unknown) => Promise<unknown>>)[name];
	if (!suite) throw new Error(`unknown suite ${name}`);
	return suite(params);
};
document.title = 'bench ready';
