import { availableParallelism } from 'node:os';
import { sveltekit } from '@sveltejs/kit/vite';
import { playwright } from '@vitest/browser-playwright';
import { defineConfig } from 'vitest/config';
import { chromiumArgs, testBrowserPath } from './scripts/chromium.js';

/**
 * Unit files that each run in a process of their own (project unit-isolated):
 * - those that load the native WebRTC module (@roamhq/wrtc): in a shared worker, connections
 *   a file left to the garbage collector could crash the native module under a later file
 *   (the worker "exited unexpectedly" in 2 of 10 full runs, always in one of these files);
 * - the block fuzzer, whose bound on heap growth (a leak of its inputs grows it by 27 MB)
 *   measured 6.1 MB in one CI run with the leftovers of other files settling in a shared
 *   worker, against a bound of 4.
 */
const ISOLATED = [
	'tests/unit/peer/peer.test.ts',
	'tests/unit/core/sync/channel-link-closed.test.ts',
	'tests/unit/core/sync/sync-handshake.test.ts',
	'tests/unit/core/decode-fuzz.test.ts'
];
/** Node-side test settings the unit projects share. */
const NODE_TESTS = {
	environment: 'node',
	// Vitest's default of 5 s is a wall-clock bound on every test: with more workers
	// than cores, or both cores busy, property tests of 2-5 s (ed25519's 150 runs
	// took 5.2 s with four workers) ran out of it. A test that bounds its own cost
	// says so itself; this only catches a hang.
	testTimeout: 60_000,
	hookTimeout: 60_000,
	// Vitest's default leaves a core to its main process (cores - 1): one worker on a
	// two-core machine, so the whole stage ran on one core. The main process is
	// mostly idle while the CPU-bound files run.
	maxWorkers: Math.max(2, availableParallelism() - 1),
	// The fixtures sign and verify with Node's OpenSSL, not noble (the file says why).
	setupFiles: ['tests/unit/support/node-engines.ts'] as string[]
} as const;

export default defineConfig({
	plugins: [sveltekit()],
	server: { host: '127.0.0.1' },
	test: {
		projects: [
			{
				extends: true,
				test: {
					name: 'unit',
					...NODE_TESTS,
					// The files of one worker share its module cache instead of importing the core
					// afresh each (measured on two cores: 271 vs 337 core-seconds, 141 vs 160 s).
					// So a file restores what it changes globally: real timers, mocks, stubbed globals.
					isolate: false,
					include: ['tests/unit/**/*.test.ts'],
					exclude: ISOLATED
				}
			},
			{
				extends: true,
				test: { name: 'unit-isolated', ...NODE_TESTS, isolate: true, include: ISOLATED }
			},
			{
				extends: true,
				test: {
					name: 'browser',
					// Its own worker count: a group of its own, after the unit files when both run.
					sequence: { groupOrder: 1 },
					include: ['tests/browser/**/*.test.ts'],
					// The fixtures verify with the engine the app picks in Chromium (the file says why).
					setupFiles: ['tests/browser/browser-engines.ts'],
					testTimeout: 60_000,
					browser: {
						enabled: true,
						headless: true,
						provider: playwright({
							launchOptions: { executablePath: testBrowserPath(), args: chromiumArgs }
						}),
						instances: [{ browser: 'chromium' }]
					}
				}
			}
		]
	}
});
