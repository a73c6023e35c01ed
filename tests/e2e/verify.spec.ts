import { expect, test } from '@playwright/test';
import { addEntry, createNetwork, openApp, rows } from './support.js';

test('"Verify all" shows its progress and reports every block verified', async ({ page }) => {
	await openApp(page);
	await createNetwork(page, 'Lakeside Clinic');
	for (const text of ['one', 'two', 'three', 'four']) await addEntry(page, text);
	await expect(page.getByTestId('verify-progress')).toHaveCount(0);

	// Record every state the progress bar goes through.
	await page.evaluate(() => {
		const seen: string[] = [];
		(window as unknown as { progressSeen: string[] }).progressSeen = seen;
		const record = () => {
			const bar = document.querySelector('[data-testid="verify-progress"]');
			if (bar) seen.push(`${bar.getAttribute('value')}/${bar.getAttribute('max')}`);
		};
		new MutationObserver(record).observe(document.body, {
			subtree: true,
			childList: true,
			attributes: true,
			attributeFilter: ['value', 'max']
		});
	});

	await page.getByTestId('verify-all').click();
	await expect(page.getByTestId('verify-result')).toHaveAttribute('data-outcome', 'ok');
	await expect(page.getByTestId('verify-result')).toContainText('All 5 blocks verified');
	await expect(page.getByTestId('verify-count')).toHaveText('5 of 5 blocks');
	await expect(page.getByTestId('verify-progress')).toHaveAttribute('value', '5');
	await expect(page.getByTestId('verify-progress')).toHaveAttribute('max', '5');
	await expect(page.getByTestId('verify-failure')).toHaveCount(0);
	await expect(page.getByTestId('verify-all')).toBeEnabled();

	const seen = await page.evaluate(() => (window as unknown as { progressSeen: string[] }).progressSeen);
	expect(seen[0]).toBe('0/5');
	expect(seen.at(-1)).toBe('5/5');

	for (let i = 0; i < 5; i++) await expect(rows(page).nth(i).getByTestId('check-badge')).toHaveAttribute('data-check', 'verified');
});
