// The relay and the served app in a real browser: the Content-Security-Policy header
// lets the app reach its own relay (no violation from founding to connected) and blocks
// a connection to any other host; a page from another origin cannot use the relay.
import { expect, test, type Page } from '@playwright/test';
import { createNetwork, openApp } from './support.js';

/** Records every CSP violation the page reports, from its first script on. */
async function recordViolations(page: Page): Promise<() => Promise<string[]>> {
	await page.addInitScript(() => {
		const seen: string[] = [];
		(window as unknown as { cspViolations: string[] }).cspViolations = seen;
		document.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.effectiveDirective} ${e.blockedURI}`));
	});
	return () => page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations);
}

/** Opens a WebSocket from the page; resolves whether it opened. */
function tryWebSocket(page: Page, url: string): Promise<boolean> {
	return page.evaluate(
		(target) =>
			new Promise<boolean>((resolve) => {
				try {
					const ws = new WebSocket(target);
					ws.onopen = () => (ws.close(), resolve(true));
					ws.onerror = () => resolve(false);
				} catch {
					resolve(false);
				}
			}),
		url
	);
}

test('the app connects to its own relay under its policy, and cannot connect anywhere else', async ({ page, baseURL }) => {
	const violations = await recordViolations(page);
	const response = await page.goto('/');
	const policy = response?.headers()['content-security-policy'] ?? '';
	expect(policy).toContain("frame-ancestors 'none'");
	expect(policy).not.toMatch(/connect-src[^;]*\s(ws|wss):(\s|;|$)/);
	await openApp(page);
	await createNetwork(page, 'Relay Clinic');
	await page.getByTestId('tab-network').click();
	await expect(page.getByTestId('connection')).toHaveAttribute('data-signaling', '1');
	expect(await violations()).toEqual([]);
	const relay = `ws://${new URL(baseURL!).host}/signaling`;
	expect(await tryWebSocket(page, relay)).toBe(true);
	expect(await tryWebSocket(page, 'ws://192.0.2.1:80/signaling')).toBe(false);
	expect(await violations()).toEqual(['connect-src ws://192.0.2.1/signaling']);
});

test('a page of another origin cannot use the relay', async ({ page, baseURL }) => {
	await page.route('http://other.example/', (route) =>
		route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>another site</title>' })
	);
	await page.goto('http://other.example/');
	expect(await tryWebSocket(page, `ws://${new URL(baseURL!).host}/signaling`)).toBe(false);
});
