// A Synthea Bundle (real third-party data, ../shared/fhir-samples) imported through the
// Import panel: every resource kept, the chart shows types without a form in the generic
// view with the narrative as text, and the same file again writes nothing.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import { createNetwork, openApp } from './support.js';

const samples = resolve(fileURLToPath(new URL('../..', import.meta.url)), '../shared/fhir-samples/synthea');

function carroll(): { name: string; text: string } {
	if (!existsSync(samples)) throw new Error(`FHIR samples missing: ${samples} does not exist (see ../shared/fhir-samples/README.md)`);
	const name = readdirSync(samples).find((f) => f.startsWith('Carroll'));
	if (!name) throw new Error(`FHIR samples missing: no Carroll…json in ${samples}`);
	return { name, text: readFileSync(join(samples, name), 'utf8') };
}

test('a Synthea Bundle imports whole through the Import panel and shows on the chart', async ({ page }) => {
	test.setTimeout(180_000);
	const { name, text } = carroll();
	const source = JSON.parse(text) as { entry: { resource: { resourceType: string } }[] };
	const directory = source.entry.filter((e) => ['Organization', 'Practitioner'].includes(e.resource.resourceType)).length;
	await openApp(page);
	await createNetwork(page, 'Harbour Clinic');
	await page.getByTestId('tab-patients').click();
	await page.getByTestId('open-import').click();
	await page.getByTestId('import-file').setInputFiles({ name, mimeType: 'application/fhir+json', buffer: Buffer.from(text) });
	await expect(page.getByTestId('import-preview')).toContainText(
		`1 patient, ${source.entry.length} resources to write (${directory} to the directory)`,
		{ timeout: 60_000 }
	);
	await expect(page.getByTestId('import-issues')).toHaveCount(0);
	await page.getByTestId('import-run').click();
	const records = source.entry.length - directory;
	await expect(page.getByTestId('import-done')).toContainText(
		`Imported 1 patients and ${records} records, ${directory} directory entries`,
		{ timeout: 60_000 }
	);

	await page.getByTestId('patient-row').filter({ hasText: 'Carroll471' }).click();
	await expect(page.getByTestId('timeline')).toHaveAttribute('data-total', String(records));
	// The timeline draws the newest 50 first; "Show more" draws the rest.
	while ((await page.getByTestId('timeline-more').count()) > 0) await page.getByTestId('timeline-more').click();
	await expect(page.getByTestId('timeline-entry')).toHaveCount(records);
	const claims = page.getByTestId('timeline-entry').filter({ hasText: 'Claim' });
	await expect(claims.first()).toHaveAttribute('data-category', 'financial');
	// A type without a form: type, date, code, and the narrative as text, never as markup.
	const carePlan = page
		.getByTestId('timeline-entry')
		.filter({ has: page.getByTestId('generic-view').filter({ hasText: 'CarePlan' }) })
		.first();
	await expect(carePlan.getByTestId('generic-view')).toContainText('Date');
	await carePlan.locator('summary', { hasText: 'Narrative' }).click();
	await expect(carePlan.getByTestId('narrative')).toContainText('Care Plan for Wound care.');
	await expect(carePlan.getByTestId('narrative').locator('ul, li, br')).toHaveCount(0);
	await expect(page.getByTestId('generic-view').filter({ hasText: 'Procedure' }).first()).toBeVisible();

	// The same file again: recognized, nothing written.
	await page.getByTestId('open-import').click();
	await page.getByTestId('import-file').setInputFiles({ name, mimeType: 'application/fhir+json', buffer: Buffer.from(text) });
	await expect(page.getByTestId('import-preview')).toContainText(
		`0 patients, 0 resources to write, ${source.entry.length} already here unchanged`,
		{ timeout: 60_000 }
	);
	await page.getByTestId('import-run').click();
	await expect(page.getByTestId('import-done')).toContainText('Imported 0 patients and 0 records', { timeout: 60_000 });
	await expect(page.getByTestId('patient-row')).toHaveCount(1);
});
