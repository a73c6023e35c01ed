import { expect, test } from '@playwright/test';
import { addEntry, createNetwork, openApp, rowWithText, rows, storedBlockCount, waitUntilOpen } from './support.js';

test('an acknowledged entry survives a reload made right after it', async ({ page }) => {
	await openApp(page);
	await createNetwork(page, 'Hillside Clinic');
	await addEntry(page, 'First entry');
	await addEntry(page, 'Written just before the reload');
	await page.reload();

	// The unlock (a real key derivation, seconds when the cores are busy) comes first.
	await waitUntilOpen(page);
	await expect(page.getByTestId('app')).toHaveAttribute('data-status', 'ready');
	await expect(page.getByTestId('network-name')).toHaveText('Hillside Clinic');
	await expect(rows(page)).toHaveCount(3);
	await expect(rows(page).last().getByTestId('block-text')).toHaveText('Written just before the reload');
	await expect(rows(page).last().getByTestId('block-seq')).toHaveText('2');
	// Stored blocks are re-verified on open.
	await expect(page.getByTestId('verify-result')).toHaveAttribute('data-outcome', 'ok');
	await expect(page.getByTestId('verify-result')).toContainText('All 3 blocks verified');
	await expect(rows(page).last().getByTestId('check-badge')).toHaveAttribute('data-check', 'verified');
});

test('an acknowledged entry survives closing the tab right after it', async ({ page, context }) => {
	await openApp(page);
	await createNetwork(page, 'Hillside Clinic');
	await addEntry(page, 'Written just before the tab closed');
	await page.close();

	const next = await context.newPage();
	await openApp(next);
	await expect(next.getByTestId('app')).toHaveAttribute('data-status', 'ready');
	// A new tab opens on the clinic's first screen (its patients): the entries are on the Ledger screen.
	await next.getByTestId('tab-ledger').click();
	await expect(rowWithText(next, 'Written just before the tab closed')).toHaveCount(1);
	await expect(rows(next)).toHaveCount(2);
	expect(await storedBlockCount(next)).toBe(2);

	// The node keeps working where it left off: the next entry continues the chain.
	await addEntry(next, 'Written in the new tab');
	await expect(rows(next).last().getByTestId('block-seq')).toHaveText('2');
});

test('a second tab waits while the first holds the ledger, then takes over', async ({ page, context }) => {
	await openApp(page);
	await createNetwork(page, 'Hillside Clinic');
	await addEntry(page, 'From the first tab');

	const second = await context.newPage();
	await second.goto('/');
	await expect(second.getByTestId('app')).toHaveAttribute('data-status', 'loading');
	await expect(second.getByRole('status').first()).toContainText('open in another tab');

	await page.close();
	await expect(second.getByTestId('app')).toHaveAttribute('data-status', 'ready');
	await second.getByTestId('tab-ledger').click();
	await expect(rowWithText(second, 'From the first tab')).toHaveCount(1);
	await addEntry(second, 'From the second tab');
	await expect(rows(second).last().getByTestId('block-seq')).toHaveText('2');
});
