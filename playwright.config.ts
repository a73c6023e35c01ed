// End-to-end tests: the built app (build/, from `vite build`) served by server/start.js,
// driven in Debian's Chromium. Each test gets a fresh browser context, hence its own
// empty IndexedDB: a new clinic browser. The sync specs launch one Chromium process per
// node (real WebRTC between them, signaling on the same server) and run one at a time:
// three browsers syncing thousands of blocks are enough for two cores.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { defineConfig } from '@playwright/test';
import { chromiumArgs, testBrowserPath } from './scripts/chromium.js';

// The port, chosen once by the runner (scripts/e2e-port.js): 4599, or a free one when a
// leftover server holds 4599; E2E_PORT asks for one (a second checkout running its tests
// at the same time) and stops the run at once, naming the holder, when it is busy. The
// workers load this file too and inherit the choice through the environment.
if (process.env.E2E_PORT_CHOSEN === undefined) {
	try {
		process.env.E2E_PORT = execFileSync(process.execPath, [fileURLToPath(new URL('./scripts/e2e-port.js', import.meta.url))], {
			encoding: 'utf8',
			stdio: ['ignore', 'pipe', 'inherit']
		}).trim();
	} catch {
		throw new Error('no port for the end-to-end server (the reason is printed above)');
	}
	process.env.E2E_PORT_CHOSEN = '1';
}
const PORT = Number(process.env.E2E_PORT);
const SIGNALING_CAPTURE_FILE = `test-results/signaling-capture-${PORT}.log`;

export default defineConfig({
	testDir: 'tests/e2e',
	timeout: 60_000,
	expect: { timeout: 10_000 },
	retries: 0,
	// Two at a time: a third (a sync spec beside two app specs) was tried and loaded the
	// two cores enough for 10-second waits in older specs to fail.
	workers: 2,
	forbidOnly: true,
	reporter: 'list',
	outputDir: 'test-results/e2e',
	use: {
		baseURL: `http://127.0.0.1:${PORT}/`,
		browserName: 'chromium',
		launchOptions: { executablePath: testBrowserPath(), args: chromiumArgs },
		viewport: { width: 1280, height: 800 },
		actionTimeout: 30_000,
		// A trace records every action's DOM snapshots and a screencast: about a fifth of the
		// stage's CPU on two cores (measured: 57 vs 44 core-seconds for the ledger and input
		// specs). Screenshots of a failure are kept; E2E_TRACE=1 records traces again.
		trace: process.env.E2E_TRACE ? 'retain-on-failure' : 'off',
		screenshot: 'only-on-failure',
		// No service worker unless a spec asks for one (`test.use({ serviceWorkers: 'allow' })`:
		// the offline and routes specs). Installing it precaches the whole build, and
		// Chromium compiles every cached script for its code cache: measured 1.6 core-seconds of
		// each fresh browser's first two seconds (4.3 against 2.6 for load, passphrase and
		// founding), paid again in each of the stage's ~70 fresh browsers.
		serviceWorkers: 'block'
	},
	// The sync specs first: they run one at a time, so the second worker takes the app specs
	// beside them. Listed last, they ran one by one at the end while the other worker idled.
	projects: [
		{ name: 'sync', testMatch: /sync-.*\.spec\.ts$/, workers: 1 },
		{ name: 'app', testIgnore: /sync-.*\.spec\.ts$/ }
	],
	webServer: {
		command: 'node server/start.js',
		// Every signaling message relayed during the run, for the check that no record data passes the relay.
		// STRICT_PORT: fail at once rather than move to another port Playwright does not wait on.
		env: { PORT: String(PORT), STRICT_PORT: '1', SIGNALING_CAPTURE: SIGNALING_CAPTURE_FILE },
		url: `http://127.0.0.1:${PORT}/`,
		reuseExistingServer: false,
		timeout: 30_000,
		stdout: 'pipe',
		stderr: 'pipe'
	}
});
