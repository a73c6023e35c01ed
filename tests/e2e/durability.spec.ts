import { expect, test } from '@playwright/test';
import { addEntry, createNetwork, openApp, rowWithText, rows, storedBlockCount, submitPassphrase, waitUntilOpen } from './support.js';

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

test('a refused passphrase lets go of the ledger it began opening: another tab opens it at once, and the first waits for it once unlocked', async ({
	page,
	context
}) => {
	// No automatic unlock here: every passphrase is typed by the test.
	const app = (p: typeof page) => p.getByTestId('app');
	await page.goto('/');
	await submitPassphrase(page);
	await expect(app(page)).toHaveAttribute('data-status', 'no-network', { timeout: 60_000 });
	await page.getByTestId('clinic-name').fill('Hillside Clinic');
	await page.getByTestId('create-network').click();
	await expect(app(page)).toHaveAttribute('data-status', 'ready');
	await page.getByTestId('tab-ledger').click();
	await addEntry(page, 'Before the reload');

	// The unlock opens the ledger while the passphrase is checked; a wrong one closes it again.
	await page.reload();
	await expect(page.getByTestId('lock-screen')).toHaveAttribute('data-mode', 'unlock');
	await submitPassphrase(page, 'not the passphrase of this key');
	await expect(page.getByTestId('lock-error')).toHaveText('Wrong passphrase. Nothing was changed.', { timeout: 60_000 });
	await expect(app(page)).toHaveAttribute('data-status', 'locked');

	const second = await context.newPage();
	await second.goto('/');
	await submitPassphrase(second);
	await expect(app(second)).toHaveAttribute('data-status', 'ready', { timeout: 60_000 });
	await second.getByTestId('tab-ledger').click();
	await expect(rowWithText(second, 'Before the reload')).toHaveCount(1);

	// The first tab, unlocked now, waits for the second and says why; then takes over with nothing lost.
	await submitPassphrase(page);
	await expect(app(page)).toHaveAttribute('data-status', 'loading', { timeout: 60_000 });
	await expect(page.getByRole('status').first()).toContainText('open in another tab');
	await second.close();
	await expect(app(page)).toHaveAttribute('data-status', 'ready', { timeout: 60_000 });
	await page.getByTestId('tab-ledger').click();
	await expect(rowWithText(page, 'Before the reload')).toHaveCount(1);
});
