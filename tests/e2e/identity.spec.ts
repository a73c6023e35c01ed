import { expect, test } from '@playwright/test';
import { openApp, storedIdentity, waitUntilOpen } from './support.js';

test('first open creates a node identity; a reload keeps it', async ({ page }) => {
	await openApp(page);
	await expect(page.getByTestId('app')).toHaveAttribute('data-status', 'no-network');

	const nodeId = page.getByTestId('node-id');
	const shown = await nodeId.getAttribute('data-full');
	expect(shown).toMatch(/^[0-9a-f]{64}$/);
	await expect(nodeId).toHaveText(shown!.slice(0, 12));
	await expect(nodeId).toHaveAttribute('title', shown!);
	// The identity is the key pair stored in its own database, not something made per page load.
	expect(await storedIdentity(page)).toBe(shown);
	await expect(page.getByTestId('key-note')).toContainText('encrypted under your passphrase');

	// The reload stops at the lock screen; the test helper types the passphrase.
	await page.reload();
	// The unlock (a real key derivation, seconds when the cores are busy) comes first.
	await waitUntilOpen(page);
	await expect(page.getByTestId('app')).toHaveAttribute('data-status', 'no-network');
	await expect(page.getByTestId('node-id')).toHaveAttribute('data-full', shown!);
	expect(await storedIdentity(page)).toBe(shown);
});

test('another browser profile gets another identity', async ({ page, browser }) => {
	await openApp(page);
	const first = await page.getByTestId('node-id').getAttribute('data-full');
	const other = await browser.newContext();
	try {
		const second = await other.newPage();
		await openApp(second);
		const secondId = await second.getByTestId('node-id').getAttribute('data-full');
		expect(secondId).toMatch(/^[0-9a-f]{64}$/);
		expect(secondId).not.toBe(first);
	} finally {
		await other.close();
	}
});
