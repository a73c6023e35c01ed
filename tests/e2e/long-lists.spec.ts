// A list that grows with the ledger draws a page at a time: a registry of 120 patients
// (imported as one FHIR Bundle) shows the first 50 by name and says how many there are;
// "Show more" draws the next pages until every patient is drawn, and a search narrows the
// list to what matches.
import { expect, test } from '@playwright/test';
import { createNetwork, openApp } from './support.js';

const COUNT = 120;
const PAGE = 50;

/** A transaction Bundle of `COUNT` patients, family names Long-000 … Long-119 (sorted the same by name). */
function bundle(): string {
	const pad = (i: number) => String(i).padStart(3, '0');
	return JSON.stringify({
		resourceType: 'Bundle',
		type: 'transaction',
		entry: Array.from({ length: COUNT }, (_, i) => ({
			fullUrl: `urn:uuid:00000000-0000-4000-8000-000000000${pad(i)}`,
			resource: {
				resourceType: 'Patient',
				id: `long-${pad(i)}`,
				name: [{ family: `Long-${pad(i)}`, given: ['Pat'] }],
				birthDate: '1980-01-01',
				gender: i % 2 ? 'female' : 'male'
			},
			request: { method: 'POST', url: 'Patient' }
		}))
	});
}

test('the patient registry draws 50 patients at a time, with Show more and search', async ({ page }) => {
	test.setTimeout(240_000);
	await openApp(page);
	await createNetwork(page, 'Long Lists Clinic');
	await page.getByTestId('tab-patients').click();
	await page.getByTestId('open-import').click();
	await page
		.getByTestId('import-file')
		.setInputFiles({ name: 'long.json', mimeType: 'application/fhir+json', buffer: Buffer.from(bundle()) });
	await expect(page.getByTestId('import-preview')).toContainText(`${COUNT} patients`, { timeout: 120_000 });
	await page.getByTestId('import-run').click();
	await expect(page.getByTestId('import-done')).toContainText(`Imported ${COUNT} patients`, { timeout: 180_000 });

	const rows = page.getByTestId('patient-row');
	await expect(rows).toHaveCount(PAGE, { timeout: 60_000 });
	await expect(page.getByTestId('patient-list-shown')).toHaveText(`Showing ${PAGE} of ${COUNT} patients, by name.`);
	await expect(rows.first()).toContainText('Long-000');
	await expect(rows.last()).toContainText(`Long-0${PAGE - 1}`);
	await page.getByTestId('patient-list-more').click();
	await expect(rows).toHaveCount(2 * PAGE);
	await expect(page.getByTestId('patient-list-more')).toHaveText(`Show ${COUNT - 2 * PAGE} more`);
	await page.getByTestId('patient-list-more').click();
	await expect(rows).toHaveCount(COUNT);
	await expect(page.getByTestId('patient-list-more')).toHaveCount(0);
	await expect(rows.last()).toContainText('Long-119');

	// A search narrows the list to the patients that match, all drawn.
	await page.getByTestId('patient-search').fill('Long-11');
	await expect(rows).toHaveCount(10);
	await expect(page.getByTestId('patient-list-more')).toHaveCount(0);
});
