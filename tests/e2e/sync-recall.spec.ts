// Recall end to end in two Chromium processes (real WebRTC, signaling on the app's
// server): clinic A receives lot L by a typed GS1 code, sends part of it to clinic B and
// gives a dose to a patient registered on the Patients tab; A's admin enters the
// supplier's recall of L; B's attempt to give a dose of L is refused with the reason, and
// A's recall workspace names the patient (B, without the patient's grant, sees the key only).
// The camera scan cannot run here (no camera); the typed code is the path tested.
import { mkdirSync } from 'node:fs';
import { expect, type Page } from '@playwright/test';
import { expectAccessible } from './axe.js';
import { registerPatient } from './records-support.js';
import { foundAndAdmit, test } from './nodes.js';

test.describe.configure({ mode: 'serial' });

const GTIN = '09506000134352';
const LOT = 'L-2611A';
const CODE = `(01)${GTIN}(17)301231(10)${LOT}`;
const REASON = 'particles found in vials of this lot';

async function showInventory(page: Page) {
	await page.getByTestId('tab-inventory').click();
	await expect(page.getByTestId('tab-inventory')).toHaveAttribute('aria-current', 'page');
}

/** Fills the movement form from the typed barcode text, as a scan would. */
async function movement(page: Page, kind: string, fields: Record<string, string>) {
	await page.getByTestId('supply-movement-kind').selectOption(kind);
	await page.getByTestId('supply-code').fill(CODE);
	await page.getByTestId('supply-code').press('Tab');
	await expect(page.getByTestId('supply-gtin')).toHaveValue(GTIN);
	await expect(page.getByTestId('supply-lot')).toHaveValue(LOT);
	for (const [id, value] of Object.entries(fields)) {
		const field = page.getByTestId(`supply-${id}`);
		if (value.startsWith('#')) await field.selectOption({ index: Number(value.slice(1)) });
		else if ((await field.evaluate((e) => e.tagName)) === 'SELECT') await field.selectOption(value);
		else await field.fill(value);
	}
	await page.getByTestId('supply-submit').click();
}

const stockOf = (page: Page) => page.getByTestId('supply-stock-row').and(page.locator(`[data-lot="${LOT}"]`));

test('a recalled lot is refused at another clinic and the recall lists the patients who received it', async ({ nodes }) => {
	test.setTimeout(4 * 60_000);
	const a = await nodes.launch('A');
	const b = await nodes.launch('B');
	const keyB = await foundAndAdmit(a, b, 'Riverside Family Clinic', 'clinician', 'Hillside Clinic');

	// A receives 10 doses of lot L: the typed code fills GTIN, lot and expiry.
	await showInventory(a.page);
	await movement(a.page, 'receive', {
		qty: '10',
		supplier: 'Northern Vaccines Ltd',
		location: 'fridge',
		'item-name': 'Measles-mumps-rubella vaccine'
	});
	await expect(a.page.getByTestId('supply-done')).toHaveText('Receive from a supplier: saved');
	await expect(stockOf(a.page)).toHaveAttribute('data-qty', '10');
	await expect(a.page.getByTestId('supply-expiry')).toHaveValue('');

	// A registers the patient (who grants A their records), records the visit and reads the patient key from the chart.
	await registerPatient(a.page, 'Amina', 'Okonkwo', '1984-03-02', '48151623');
	await a.page.getByTestId('patient-row').click();
	await a.page.getByTestId('new-encounter').click();
	await a.page.getByTestId('enc-reason').fill('MMR second dose');
	await a.page.getByTestId('encounter-save').click();
	await expect(a.page.getByTestId('encounter-form')).toHaveCount(0);
	const PATIENT = (await a.page.getByTestId('chart').locator('header abbr').getAttribute('data-full'))!;
	expect(PATIENT).toMatch(/^[0-9a-f]{64}$/);
	await showInventory(a.page);

	// A sends 4 to Hillside and gives one dose to the patient.
	await movement(a.page, 'transfer', { qty: '4', location: 'fridge', to: keyB });
	await expect(a.page.getByTestId('supply-done')).toHaveText('Transfer to another clinic: saved');
	// The dose is linked to the visit, offered by the form once the patient key is typed.
	await movement(a.page, 'administer', { qty: '1', location: 'fridge', patient: PATIENT, visit: '#1' });
	await expect(a.page.getByTestId('supply-done')).toHaveText('Give to a patient: saved');
	await expect(stockOf(a.page)).toHaveAttribute('data-qty', '5');
	await expect(a.page.getByTestId('supply-flag')).toHaveCount(0);

	// B sees the transfer coming and receives it.
	await showInventory(b.page);
	await b.page.getByTestId('supply-receive-transfer').click();
	await expect(stockOf(b.page)).toHaveAttribute('data-qty', '4');

	// The supplier recalls lot L; A's admin enters it.
	await a.page.getByTestId('supply-recall-gtin').fill(GTIN);
	await a.page.getByTestId('supply-recall-lot').fill(LOT);
	await a.page.getByTestId('supply-recall-reason').fill(REASON);
	await a.page.getByTestId('supply-recall-submit').click();
	await expect(a.page.getByTestId('supply-recall-banner')).toContainText(LOT);
	await expect(a.page.getByTestId('supply-recall-submit')).toBeEnabled();

	// B learns of it over WebRTC: banner, blocked stock, and a dose of L refused with the reason, nothing written.
	await expect(b.page.getByTestId('supply-recall-banner')).toContainText(REASON);
	await expect(stockOf(b.page)).toContainText(`lot ${LOT} was recalled`);
	await movement(b.page, 'administer', { qty: '1', location: 'main', patient: 'b2'.repeat(32) });
	await expect(b.page.getByTestId('supply-error')).toHaveText(`Refused: lot ${LOT} was recalled: ${REASON}. Do not give this dose.`);
	// Nothing written: a dose would show as a second patient of the lot and take B's stock to 3.
	await expect(b.page.getByTestId('supply-recall-patient')).toHaveCount(1);
	await expect(stockOf(b.page)).toHaveAttribute('data-qty', '4');

	// A's recall workspace names the patient who received L, and where the lot still is.
	const patient = a.page.getByTestId('supply-recall-patient');
	await expect(patient).toHaveCount(1);
	await expect(patient).toHaveAttribute('data-patient', PATIENT);
	await expect(patient).toHaveAttribute('data-status', 'pending');
	await expect(a.page.getByTestId('supply-recall-holding')).toContainText('Riverside Family Clinic: 5 on hand');
	await expect(a.page.getByTestId('supply-recall-holding')).toContainText('Hillside Clinic: 4 on hand');
	await patient.getByTestId('supply-contact-status').selectOption('contacted');
	await expect(patient).toHaveAttribute('data-status', 'contacted');
	await patient.getByLabel('Contact note').fill('new dose booked for Friday');
	await patient.getByTestId('supply-contact-note').click();
	await expect(patient.getByTestId('supply-contact-saved-note')).toHaveText('“new dose booked for Friday”');
	// B (a clinician) sees the same list and the contact status A recorded.
	await expect(b.page.getByTestId('supply-recall-patient')).toHaveAttribute('data-status', 'contacted');
	// A can read the patient's demographics, so it shows the name; B holds no grant and shows the key only.
	await expect(patient.getByTestId('supply-recall-patient-name')).toHaveText('Amina Okonkwo');
	await expect(b.page.getByTestId('supply-recall-patient-name')).toHaveCount(0);

	// The tab fits a narrow screen.
	await b.page.setViewportSize({ width: 390, height: 844 });
	expect(
		await b.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth),
		'inventory tab at 390 px'
	).toBeLessThanOrEqual(0);

	mkdirSync('docs/screenshots', { recursive: true });
	await a.page.getByTestId('tab-inventory').scrollIntoViewIfNeeded();
	await a.page.screenshot({ path: 'docs/screenshots/inventory.png', fullPage: true });

	// No WCAG 2.1 A/AA violations on the tab, banner and recall workspace included.
	await expectAccessible(a.page, 'inventory: recall', '[data-testid="inventory"]');

	// From the recall list to the patient's chart, to find how to reach them.
	await patient.getByTestId('supply-open-patient').click();
	await expect(a.page.getByTestId('tab-patients')).toHaveAttribute('aria-current', 'page');
	await expect(a.page.getByTestId('chart').locator('header abbr')).toHaveAttribute('data-full', PATIENT);
});
