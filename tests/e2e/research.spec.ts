// Research across three browsers: two clinics (A founds the network, C is a second
// clinic's admin) and a researcher (B), real WebRTC between them. B registers a study;
// A and C approve it (C unwraps the study key A shared) and each writes synthetic
// patients, 24 consenting and 6 not; B asks an age histogram; each clinic answers from
// its own consented patients, sealed for B; B sees the combined table (48 patients) with
// small cells hidden, exports it, and neither the export nor B's IndexedDB holds an
// identifying value.
import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { expectAccessible } from './axe.js';
import { storedLedgerText } from './records-support.js';
import {
	addMember,
	closeNode,
	foundNetwork,
	joinByLink,
	keyBeforeJoining,
	launchNode,
	profileDir,
	removeProfile,
	shareLink,
	type Node
} from './nodes.js';

/** WCAG 2.1 A/AA rule ids axe finds violated on the page as it is. */
const openResearch = async (page: Page) => {
	await page.getByTestId('tab-research').click();
	await expect(page.getByTestId('research')).toBeVisible();
};

test('two clinics answer; the researcher gets the combined aggregate of consented patients only, small cells hidden, nothing identifying stored', async ({
	baseURL
}) => {
	test.setTimeout(8 * 60_000);
	const nodes: Node[] = [];
	try {
		const a = await launchNode('clinic', profileDir('research-clinic'), baseURL!);
		nodes.push(a);
		const b = await launchNode('researcher', profileDir('research-researcher'), baseURL!);
		nodes.push(b);
		const c = await launchNode('clinic-2', profileDir('research-clinic-2'), baseURL!);
		nodes.push(c);
		await foundNetwork(a.page, 'Riverside Family Clinic');
		await addMember(a.page, await keyBeforeJoining(b.page), 'researcher', 'University research team');
		await addMember(a.page, await keyBeforeJoining(c.page), 'admin', 'Hillside Clinic');
		const link = await shareLink(a.page);
		await joinByLink(b.page, link, 'Riverside Family Clinic');
		await joinByLink(c.page, link, 'Riverside Family Clinic');
		await expect(b.page.getByTestId('app')).toHaveAttribute('data-role', 'researcher');
		await expect(c.page.getByTestId('app')).toHaveAttribute('data-role', 'admin');

		// B registers a study (aggregates, no budget).
		await openResearch(b.page);
		await b.page.getByTestId('study-title').fill('Diabetes in the community');
		await b.page.getByTestId('study-protocol').fill('Retrospective cohort of adults seen at participating clinics.');
		await b.page.getByTestId('study-ethics').fill('IRB-2026-014');
		await b.page.getByTestId('study-criteria').fill('All consenting patients');
		await b.page.getByTestId('study-submit').click();
		await expect(b.page.getByTestId('research-notice')).toContainText('Study registered');

		// Each clinic approves (A first: it makes the study key; C unwraps it) and writes synthetic patients: 24 consent, 6 do not.
		await openResearch(a.page);
		await expect(a.page.getByTestId('study-row')).toContainText('Diabetes in the community', { timeout: 30_000 });
		await expect(a.page.getByTestId('study-form')).toHaveCount(0); // only researchers register
		await a.page.getByTestId('study-approve').click();
		await expect(a.page.getByTestId('research-notice')).toContainText('Approved');
		await openResearch(c.page);
		await expect(c.page.getByTestId('study-row')).toContainText('1 clinic approved', { timeout: 30_000 });
		await c.page.getByTestId('study-approve').click();
		await expect(c.page.getByTestId('research-notice')).toContainText('Approved');
		for (const clinic of [a, c]) await clinic.page.getByTestId('load-synthetic').click();
		for (const clinic of [a, c])
			await expect(clinic.page.getByTestId('research-notice')).toContainText('30 synthetic patients written, 24 consenting', {
				timeout: 180_000
			});

		// B sees both approvals and every consent, asks an age histogram.
		await expect(b.page.getByTestId('study-row')).toContainText('2 clinics approved · 48 consented', { timeout: 60_000 });
		await expect(b.page.getByTestId('clinic-status')).toContainText('Hillside Clinic');
		await b.page.getByTestId('measure-kind').selectOption('histogram');
		await b.page.getByTestId('measure-dim1').selectOption('age');
		await b.page.getByTestId('query-submit').click();
		await expect(b.page.getByTestId('research-notice')).toContainText('Query on the ledger');

		// Each clinic answers from its own consented patients.
		for (const clinic of [a, c]) {
			await expect(clinic.page.getByTestId('query-answer')).toBeVisible({ timeout: 30_000 });
			await clinic.page.getByTestId('query-answer').click();
			await expect(clinic.page.getByTestId('research-notice')).toContainText('Answered from 24 consented patients');
		}

		// B opens the combined answer: 48 in all, small age bands hidden and marked.
		await expect(b.page.getByTestId('query-row')).toContainText('2 clinic answers', { timeout: 30_000 });
		await b.page.getByTestId('query-open').click();
		const table = b.page.getByTestId('result-table');
		await expect(table).toBeVisible();
		await expect(b.page.getByTestId('result-total')).toHaveText('48');
		expect(await table.locator('td[data-suppressed="true"]').count()).toBeGreaterThan(0);
		for (const text of await table.locator('td[data-suppressed="false"]').allInnerTexts())
			expect(Number(text) === 0 || Number(text) >= 11).toBe(true);
		await expect(b.page.getByTestId('result-chart').locator('rect[data-suppressed="true"]').first()).toBeAttached();
		await b.page.screenshot({ path: 'docs/screenshots/research.png', fullPage: true });
		// The Research tab as the researcher and as a clinic see it: no WCAG A/AA violation.
		await expectAccessible(b.page, 'research: clinic B');
		await expectAccessible(a.page, 'research: clinic A');

		// The CSV export and B's IndexedDB hold nothing identifying: patient names, street, city, phone.
		const download = b.page.waitForEvent('download');
		await b.page.getByTestId('export-csv').click();
		const csv = readFileSync((await (await download).path())!, 'utf8');
		expect(csv).toContain('total');
		const stored = await storedLedgerText(b.page);
		for (const value of ['Synthetic', 'Main St', 'Town', '555-']) {
			expect(csv).not.toContain(value);
			expect(stored.includes(value), value).toBe(false);
		}
		// The clinics' own stores hold the records sealed too (a clinic opens them in memory only).
		for (const clinic of [a, c]) expect((await storedLedgerText(clinic.page)).includes('Synthetic')).toBe(false);
	} finally {
		for (const node of nodes) {
			await closeNode(node).catch(() => undefined);
			removeProfile(node);
		}
	}
});
