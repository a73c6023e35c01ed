import { mkdirSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { addEntry, createNetwork, openApp, rows } from './support.js';

test('create a network, add three entries: shown in order with seq, clock, hash and verified badges', async ({ page }) => {
	await openApp(page);
	await createNetwork(page, 'Riverside Family Clinic');
	const author = await page.getByTestId('node-id').getAttribute('data-full');

	// The genesis block founds the network: its hash is the network id.
	await expect(rows(page)).toHaveCount(1);
	const networkId = await page.getByTestId('network-id').getAttribute('data-full');
	expect(networkId).toMatch(/^[0-9a-f]{64}$/);
	await expect(rows(page).first()).toHaveAttribute('data-block-id', networkId!);
	await expect(rows(page).first().getByTestId('block-tx')).toHaveAttribute('data-tx-type', 'genesis');
	await expect(page.getByTestId('verifier')).toHaveAttribute('data-verifier', /^(webcrypto|noble)$/);
	// Signatures are checked in the page's worker pool (one per core, at least 2), not on the page's thread.
	await expect(page.getByTestId('verifier')).toHaveAttribute('data-workers', /^([2-9]|\d\d)$/);
	await expect(page.getByTestId('verifier')).toContainText(/in \d+ workers/);

	const texts = [
		'Morning check: vaccine fridge at 4.1 °C',
		'Received 20 doses of tetanus vaccine, lot T-2291',
		'Autoclave cycle 118 passed'
	];
	for (const text of texts) await addEntry(page, text);

	await expect(rows(page)).toHaveCount(4);
	const ids = new Set<string>();
	for (let i = 0; i < 4; i++) {
		const row = rows(page).nth(i);
		if (i > 0) await expect(row.getByTestId('block-text')).toHaveText(texts[i - 1]!);
		await expect(row.getByTestId('block-seq')).toHaveText(String(i));
		await expect(row.getByTestId('block-clock')).toHaveText(String(i));
		await expect(row.getByTestId('block-author')).toHaveAttribute('data-full', author!);
		const hash = row.getByTestId('block-hash');
		const full = await hash.getAttribute('data-full');
		expect(full).toMatch(/^[0-9a-f]{64}$/);
		await expect(row).toHaveAttribute('data-block-id', full!);
		await expect(hash).toHaveText(full!.slice(0, 8));
		await expect(hash).toHaveAttribute('title', full!);
		await expect(row.locator('time')).toHaveAttribute('datetime', /^\d{4}-\d\d-\d\dT/);
		await expect(row.getByTestId('check-badge')).toHaveAttribute('data-check', 'verified');
		await expect(row.getByTestId('check-badge')).toHaveText(/Verified/);
		ids.add(full!);
	}
	expect(ids.size).toBe(4);
});

test('the page works at 1280 px and on a narrow screen; screenshots for the README', async ({ page }) => {
	await openApp(page);
	await createNetwork(page, 'Riverside Family Clinic');
	for (const text of [
		'Clinic opened. Morning check: vaccine fridge at 4.1 °C, freezer at −18 °C.',
		'Received 20 doses of tetanus vaccine, lot T-2291, expiry 2027-03.',
		'Autoclave cycle 118 passed (134 °C, 4 min). Indicator strip filed.',
		'Handover to the evening team: two follow-up calls pending, see the paper log.'
	]) {
		await addEntry(page, text);
	}
	await page.getByTestId('verify-all').click();
	await expect(page.getByTestId('verify-result')).toHaveAttribute('data-outcome', 'ok');

	const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
	expect(await overflow()).toBeLessThanOrEqual(0);
	mkdirSync('docs/screenshots', { recursive: true });
	await page.screenshot({ path: 'docs/screenshots/ledger.png', fullPage: true });

	await page.setViewportSize({ width: 390, height: 844 });
	await expect(rows(page)).toHaveCount(5);
	expect(await overflow()).toBeLessThanOrEqual(0);
	await expect(page.getByTestId('add-entry')).toBeVisible();
	await expect(rows(page).last().getByTestId('block-hash')).toBeVisible();
	await page.screenshot({ path: 'docs/screenshots/ledger-narrow.png', fullPage: true });
});
