// Every screen has an address: a clinic opens on its patients; each screen opens by its
// URL (a deep link served by the SPA fallback), stays on a reload, and the browser's back
// and forward buttons walk the screens visited. The navigation marks the screen shown.
// Each page load unlocks the node (one real key derivation): the bounds are generous for a busy machine.
import { expect, test, type Page } from '@playwright/test';
import { submitPassphrase } from './support.js';

// As a clinic's browser runs after its first visit: every reload and deep link answered by
// the service worker's cached page (playwright.config.ts blocks it in most specs).
test.use({ serviceWorkers: 'allow' });

/** Each screen of a clinic's admin, and what only that screen shows. */
const SCREENS = [
	['ledger', 'entry-form'],
	['patients', 'records'],
	['research', 'research'],
	['network', 'connection'],
	['members', 'members'],
	['billing', 'billing'],
	['inventory', 'inventory'],
	['diagnostics', 'test-entries'],
	['explorer', 'explorer'],
	['demo', 'demo']
] as const;

/** A page load stops at the lock screen: types the passphrase there (each load costs one key derivation). */
async function unlock(page: Page): Promise<void> {
	await expect(page.getByTestId('lock-screen')).toHaveAttribute('data-mode', 'unlock', { timeout: 120_000 });
	await submitPassphrase(page);
}

/** A new node that founds a network; it ends on its first screen. */
async function foundClinic(page: Page): Promise<void> {
	await page.goto('/');
	await expect(page.getByTestId('lock-screen')).toBeVisible({ timeout: 120_000 });
	await submitPassphrase(page);
	await expect(page.getByTestId('app')).toHaveAttribute('data-status', 'no-network', { timeout: 120_000 });
	await page.getByTestId('clinic-name').fill('Harbour Clinic');
	await page.getByTestId('create-network').click();
}

async function expectScreen(page: Page, id: string, marker: string): Promise<void> {
	await expect(page.getByTestId('app')).toHaveAttribute('data-status', 'ready', { timeout: 120_000 });
	await expect(page).toHaveURL(new RegExp(`/${id}$`));
	await expect(page.getByTestId(marker)).toBeVisible();
	await expect(page.getByTestId(`tab-${id}`)).toHaveAttribute('aria-current', 'page');
	await expect(page.locator('nav [aria-current="page"]')).toHaveCount(1);
}

test('each screen opens by its URL, stays on reload, and back and forward walk the screens', async ({ page }) => {
	test.setTimeout(900_000);
	await foundClinic(page);
	// The root leads a clinic to its patients, on its first opening and on every later one.
	await expectScreen(page, 'patients', 'records');
	await page.goto('/');
	await unlock(page);
	await expectScreen(page, 'patients', 'records');

	await expect(page.locator('nav[aria-label="Views"] a')).toHaveCount(SCREENS.length);
	// Each screen's address loaded from the server, as a deep link or a bookmark is: the first
	// by `goto`, every other as the reload of the screen the navigation opened (a reload
	// requests the address shown, so it is the same page load as typing it).
	await page.goto(`/${SCREENS[0][0]}`);
	await unlock(page);
	await expectScreen(page, SCREENS[0][0], SCREENS[0][1]);
	// From here on the service worker answers each page load, as after a clinic's first visit.
	expect(await page.evaluate(() => navigator.serviceWorker.ready.then((r) => r.active?.state ?? 'none'))).toBe('activated');
	for (const [id, marker] of SCREENS) {
		await page.getByTestId(`tab-${id}`).click();
		await expectScreen(page, id, marker);
		await page.reload();
		await unlock(page);
		await expectScreen(page, id, marker);
		expect(
			await page.evaluate(() => navigator.serviceWorker.controller !== null),
			`the reload of /${id} came from the service worker`
		).toBe(true);
	}

	// Through the navigation (no page load), then back to the first and forward to the last.
	for (const [id, marker] of SCREENS) {
		await page.getByTestId(`tab-${id}`).click();
		await expectScreen(page, id, marker);
	}
	for (let i = SCREENS.length - 2; i >= 0; i--) {
		await page.goBack();
		const [id, marker] = SCREENS[i]!;
		await expectScreen(page, id, marker);
	}
	for (let i = 1; i < SCREENS.length; i++) {
		await page.goForward();
		const [id, marker] = SCREENS[i]!;
		await expectScreen(page, id, marker);
	}
});

test('an unknown address opens the app with no screen marked', async ({ page }) => {
	test.setTimeout(300_000);
	await foundClinic(page);
	await expectScreen(page, 'patients', 'records');
	// Any path without a file extension gets the app: the server's SPA fallback, or the service worker's cached page.
	await page.goto('/no-such-screen');
	await unlock(page);
	await expect(page.getByTestId('app')).toHaveAttribute('data-status', 'ready', { timeout: 120_000 });
	await expect(page.locator('nav [aria-current="page"]')).toHaveCount(0);
});
