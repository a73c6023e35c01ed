// Accessibility of the main pages, checked with axe-core (WCAG 2.1 A and AA rules) in
// Chromium: the lock screen, the first screen, the ledger, the Patients tab (registry,
// registration form, chart with the encounter form open, the patient's view, the import
// panel), the Network and Members tabs. Keyboard use: every form is filled and submitted
// with the keyboard in the records specs; here the navigation is walked with Tab and Enter.
import { expect, test } from '@playwright/test';
import { axeCheck, expectAccessible } from './axe.js';
import { registerPatient } from './records-support.js';
import { createNetwork, submitPassphrase } from './support.js';

test('the main pages have no WCAG A/AA violations, and the navigation works from the keyboard', async ({ page }) => {
	test.setTimeout(240_000);
	await page.goto('/');
	await expect(page.getByTestId('lock-screen')).toBeVisible();
	await expectAccessible(page, 'first run: choose a passphrase');
	await submitPassphrase(page);
	await expect(page.getByTestId('app')).toHaveAttribute('data-status', 'no-network', { timeout: 30_000 });
	await expectAccessible(page, 'no network yet');

	await createNetwork(page, 'Harbour Clinic');
	await expectAccessible(page, 'ledger tab');

	await registerPatient(page, 'Amina', 'Okonkwo', '1984-03-02', '48151623');
	await expectAccessible(page, 'patients: chart');
	await page.getByTestId('new-encounter').click();
	await expectAccessible(page, 'patients: encounter form');
	await page.getByTestId('register-patient').click();
	await expectAccessible(page, 'patients: registration form');
	await page.getByTestId('open-patient-view').click();
	await expectAccessible(page, "patients: patient's view (closed)");
	await page.getByTestId('open-import').click();
	await expectAccessible(page, 'patients: import');

	// The navigation: links reached with the Tab key and followed with Enter; every screen is checked on the way.
	const tabs = page.getByRole('navigation', { name: 'Views' }).getByRole('link');
	const count = await tabs.count();
	expect(count).toBeGreaterThanOrEqual(8);
	await tabs.first().focus();
	for (let i = 0; i < count; i++) {
		const tab = tabs.nth(i);
		await expect(tab).toBeFocused();
		await page.keyboard.press('Enter');
		await expect(tab).toHaveAttribute('aria-current', 'page');
		const name = (await tab.textContent())?.trim() ?? `screen ${i}`;
		await expectAccessible(page, `${name} screen`);
		// A navigation moves focus to the page's start, as for any link: the next link is one Tab on from this one.
		await tab.focus();
		await page.keyboard.press('Tab');
	}
});

test('the lock screen after a reload has no violations', async ({ page }) => {
	await page.goto('/');
	await submitPassphrase(page);
	await expect(page.getByTestId('app')).toHaveAttribute('data-status', 'no-network', { timeout: 30_000 });
	await page.reload();
	await expect(page.getByTestId('lock-screen')).toHaveAttribute('data-mode', 'unlock');
	await expectAccessible(page, 'lock screen (unlock)');
});

test('the check finds violations: an image without a text alternative, an unlabelled field, low contrast', async ({ page }) => {
	await page.setContent(
		'<!doctype html><html lang="en"><head><title>Check</title></head><body><main><h1>Check</h1><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="><input type="text">' +
			'<p style="color:#bbb;background:#fff">faint text</p><section id="fine"><p>fine</p></section></main></body></html>'
	);
	const found = await axeCheck(page);
	expect(found.violations.map((v) => v.id).sort()).toEqual(['color-contrast', 'image-alt', 'label']);
	expect(found.violations.find((v) => v.id === 'image-alt')?.targets).toEqual(['img']);
	// Within a part of the page, only what is in it.
	expect((await axeCheck(page, '#fine')).violations).toEqual([]);
});
