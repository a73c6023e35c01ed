import { expect, test } from '@playwright/test';
import { addEntry, createNetwork, openApp, rows, storedBlockCount } from './support.js';

test('an empty or blank entry shows a clear error and appends nothing', async ({ page }) => {
	await openApp(page);
	await createNetwork(page, 'Meadow Clinic');
	await expect(rows(page)).toHaveCount(1);

	for (const text of ['', '   \n\t  ']) {
		await page.getByTestId('entry-text').fill(text);
		await page.getByTestId('add-entry').click();
		const error = page.getByTestId('entry-error');
		await expect(error).toHaveText('The entry is empty: write something before adding it.');
		await expect(error).toHaveAttribute('role', 'alert');
		await expect(page.getByTestId('entry-text')).toHaveAttribute('aria-invalid', 'true');
		await expect(page.getByTestId('entry-status')).toHaveText('');
		await expect(rows(page)).toHaveCount(1);
		expect(await storedBlockCount(page)).toBe(1);
	}

	// A valid entry clears the error.
	await addEntry(page, 'A real entry');
	await expect(page.getByTestId('entry-error')).toHaveCount(0);
	expect(await storedBlockCount(page)).toBe(2);
});

test('an entry over 10,000 characters is refused with the limit and kept in the form', async ({ page }) => {
	await openApp(page);
	await createNetwork(page, 'Meadow Clinic');
	const long = 'x'.repeat(10_001);
	await page.getByTestId('entry-text').fill(long);
	await page.getByTestId('add-entry').click();
	await expect(page.getByTestId('entry-error')).toContainText('10,001 characters long; the limit is 10,000');
	await expect(page.getByTestId('entry-text')).toHaveValue(long);
	expect(await storedBlockCount(page)).toBe(1);

	// Exactly at the limit is fine; the list folds it behind "Show all".
	await page.getByTestId('entry-text').fill('y'.repeat(10_000));
	await page.getByTestId('add-entry').click();
	await expect(page.getByTestId('entry-status')).toContainText('Saved in block');
	await expect(page.getByTestId('entry-error')).toHaveCount(0);
	await expect(rows(page)).toHaveCount(2);
	const last = rows(page).last();
	await last.getByText('Show all').click();
	const full = await last.getByTestId('block-text').textContent();
	expect(full).toBe('y'.repeat(10_000));
	expect(await storedBlockCount(page)).toBe(2);
});

test('a blank clinic name is refused before a network is created', async ({ page }) => {
	await openApp(page);
	await page.getByTestId('create-network').click();
	await expect(page.getByTestId('create-error')).toContainText('Enter the clinic name');
	await expect(page.getByTestId('app')).toHaveAttribute('data-status', 'no-network');
});
