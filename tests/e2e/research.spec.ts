// Research across two browsers: a clinic (A, admin) and a researcher (B) on one network,
// real WebRTC between them. B registers a study; A approves it and writes synthetic
// patients, 24 consenting and 6 not; B asks an age histogram; A answers from its
// consented patients, sealed for B; B sees the combined table with small cells hidden,
// exports it, and neither the export nor B's IndexedDB holds an identifying value.
import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { addMember, closeNode, foundNetwork, joinByLink, keyBeforeJoining, launchNode, profileDir, removeProfile, shareLink, type Node } from './nodes.js';

/** Every byte stored in the ledger database, as text (Latin-1). */
function storedText(page: Page): Promise<string> {
	return page.evaluate(
		() =>
			new Promise<string>((resolve, reject) => {
				const open = indexedDB.open('clinic-ledger');
				open.onerror = () => reject(open.error);
				open.onsuccess = () => {
					const db = open.result;
					const parts: string[] = [];
					const tx = db.transaction(db.objectStoreNames, 'readonly');
					const visit = (value: unknown): void => {
						if (value instanceof Uint8Array) parts.push(Array.from(value, (b) => String.fromCharCode(b)).join(''));
						else if (value instanceof ArrayBuffer) visit(new Uint8Array(value));
						else if (typeof value === 'string') parts.push(value);
						else if (Array.isArray(value)) value.forEach(visit);
						else if (value && typeof value === 'object') Object.values(value).forEach(visit);
					};
					for (const name of Array.from(db.objectStoreNames)) {
						const cursor = tx.objectStore(name).openCursor();
						cursor.onsuccess = () => {
							if (!cursor.result) return;
							visit(cursor.result.value);
							cursor.result.continue();
						};
					}
					tx.oncomplete = () => resolve(parts.join('\n'));
					tx.onerror = () => reject(tx.error);
				};
			})
	);
}

const openResearch = async (page: Page) => {
	await page.getByTestId('tab-research').click();
	await expect(page.getByTestId('research')).toBeVisible();
};

test('a researcher gets the combined aggregate of consented patients, small cells hidden, nothing identifying stored', async ({ baseURL }) => {
	test.setTimeout(6 * 60_000);
	const nodes: Node[] = [];
	try {
		const a = await launchNode('clinic', profileDir('research-clinic'), baseURL!);
		nodes.push(a);
		const b = await launchNode('researcher', profileDir('research-researcher'), baseURL!);
		nodes.push(b);
		await foundNetwork(a.page, 'Riverside Family Clinic');
		await addMember(a.page, await keyBeforeJoining(b.page), 'researcher', 'University research team');
		await joinByLink(b.page, await shareLink(a.page), 'Riverside Family Clinic');
		await expect(b.page.getByTestId('app')).toHaveAttribute('data-role', 'researcher');

		// B registers a study (aggregates, no budget).
		await openResearch(b.page);
		await b.page.getByTestId('study-title').fill('Diabetes in the community');
		await b.page.getByTestId('study-protocol').fill('Retrospective cohort of adults seen at participating clinics.');
		await b.page.getByTestId('study-ethics').fill('IRB-2026-014');
		await b.page.getByTestId('study-criteria').fill('All consenting patients');
		await b.page.getByTestId('study-submit').click();
		await expect(b.page.getByTestId('research-notice')).toContainText('Study registered');

		// A approves and writes synthetic patients: 24 consent, 6 do not.
		await openResearch(a.page);
		await expect(a.page.getByTestId('study-row')).toContainText('Diabetes in the community', { timeout: 30_000 });
		await expect(a.page.getByTestId('study-form')).toHaveCount(0); // only researchers register
		await a.page.getByTestId('study-approve').click();
		await expect(a.page.getByTestId('research-notice')).toContainText('Approved');
		await a.page.getByTestId('load-synthetic').click();
		await expect(a.page.getByTestId('research-notice')).toContainText('30 synthetic patients written, 24 consenting', { timeout: 120_000 });
		await expect(a.page.getByTestId('clinic-status')).toContainText('24');

		// B sees the approval and the consents, asks an age histogram.
		await expect(b.page.getByTestId('study-row')).toContainText('24 consented', { timeout: 60_000 });
		await b.page.getByTestId('measure-kind').selectOption('histogram');
		await b.page.getByTestId('measure-dim1').selectOption('age');
		await b.page.getByTestId('query-submit').click();
		await expect(b.page.getByTestId('research-notice')).toContainText('Query on the ledger');

		// A answers from its consented patients.
		await expect(a.page.getByTestId('query-answer')).toBeVisible({ timeout: 30_000 });
		await a.page.getByTestId('query-answer').click();
		await expect(a.page.getByTestId('research-notice')).toContainText('Answered from 24 consented patients');

		// B opens the combined answer: 24 in all, small age bands hidden and marked.
		await expect(b.page.getByTestId('query-open')).toBeVisible({ timeout: 30_000 });
		await b.page.getByTestId('query-open').click();
		const table = b.page.getByTestId('result-table');
		await expect(table).toBeVisible();
		await expect(b.page.getByTestId('result-total')).toHaveText('24');
		expect(await table.locator('td[data-suppressed="true"]').count()).toBeGreaterThan(0);
		for (const text of await table.locator('td[data-suppressed="false"]').allInnerTexts()) expect(Number(text) === 0 || Number(text) >= 11).toBe(true);
		await expect(b.page.getByTestId('result-chart').locator('rect[data-suppressed="true"]').first()).toBeAttached();
		await b.page.screenshot({ path: 'docs/screenshots/research.png', fullPage: true });

		// The CSV export and B's IndexedDB hold nothing identifying: patient names, street, city, phone.
		const download = b.page.waitForEvent('download');
		await b.page.getByTestId('export-csv').click();
		const csv = readFileSync((await (await download).path())!, 'utf8');
		expect(csv).toContain('total');
		const stored = await storedText(b.page);
		for (const value of ['Synthetic', 'Main St', 'Town', '555-']) {
			expect(csv).not.toContain(value);
			expect(stored.includes(value), value).toBe(false);
		}
		// A's own store holds the records sealed too (the clinic opens them in memory only).
		expect((await storedText(a.page)).includes('Synthetic')).toBe(false);
	} finally {
		for (const node of nodes) {
			await closeNode(node).catch(() => undefined);
			removeProfile(node);
		}
	}
});
