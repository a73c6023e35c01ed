// End-to-end tests: the built app (build/, from `vite build`) served by server/start.js,
// driven in Debian's Chromium. Each test gets a fresh browser context, hence its own
// empty IndexedDB: a new clinic browser.
import { defineConfig } from '@playwright/test';
import { chromiumArgs, chromiumPath } from './scripts/chromium.js';

const PORT = 4599;

export default defineConfig({
	testDir: 'tests/e2e',
	timeout: 60_000,
	expect: { timeout: 10_000 },
	retries: 0,
	workers: 2,
	forbidOnly: true,
	reporter: 'list',
	outputDir: 'test-results/e2e',
	use: {
		baseURL: `http://127.0.0.1:${PORT}/`,
		browserName: 'chromium',
		launchOptions: { executablePath: chromiumPath(), args: chromiumArgs },
		viewport: { width: 1280, height: 800 },
		trace: 'retain-on-failure'
	},
	webServer: {
		command: 'node server/start.js',
		env: { PORT: String(PORT) },
		url: `http://127.0.0.1:${PORT}/`,
		reuseExistingServer: false,
		timeout: 30_000,
		stdout: 'pipe',
		stderr: 'pipe'
	}
});
