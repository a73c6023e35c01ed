// The open chart (ChartManager) reads a page, not the chart: the first screen, "Show
// more", a re-read after new blocks that keeps what was shown, the whole chart on demand,
// reads logged only for what was decrypted, and an export that never takes a partial page.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { authorOf, fixedNow, foundNetwork, testSecret } from '$lib/core/testing/fixtures.js';
import type { Tx } from '$lib/core/index.js';
import { APP_FOLDS, APP_INDEXES } from '$lib/domain/fold-registry.js';
import { APP_RULES } from '$lib/domain/rule-registry.js';
import { encryptionSecretKey } from '$lib/domain/privacy/envelope.js';
import { RecordBook, type ReadEvent } from '$lib/domain/records/book.js';
import { exportBundle } from '$lib/domain/records/bundle-export.js';
import { timelineOrder } from '$lib/domain/records/chart-pages.js';
import type { ClinicalResource } from '$lib/domain/records/fhir.js';
import { Keyring } from '$lib/domain/records/keyring.js';
import { ChartManager, FIRST_PAGE, MORE } from '$lib/state/records/chart.svelte.js';
import type { ReadLog } from '$lib/state/records/read-log.svelte.js';
import { grant, labResult, patientKey } from '../support/patients.js';

const NOW = fixedNow();
const labOn = (patient: string, text: string, date: string) =>
	({ ...labResult(patient, text), effectiveDateTime: date }) as ClinicalResource;

async function scene() {
	const clock = { t: NOW - 10_000_000 };
	const ledger = await foundNetwork({ rules: APP_RULES, folds: APP_FOLDS, indexes: APP_INDEXES, founder: 'clinic-a', now: () => clock.t });
	const p = patientKey();
	await ledger.append([grant(p, authorOf('clinic-a'), ['labs'])]);
	const book = new RecordBook(ledger, new Keyring(authorOf('clinic-a'), encryptionSecretKey(testSecret('clinic-a'))));
	// 40 blocks of 15 records each, one ledger time per block: 600 records.
	for (let b = 0; b < 40; b++) {
		clock.t += 60_000;
		const txs: Tx[] = [];
		for (let i = 0; i < 15; i++)
			txs.push(...(await book.sealTxs(labOn(p.id, `r${b}-${i}`, `2020-01-${String(1 + i).padStart(2, '0')}T00:00:00Z`), { now: NOW })).txs);
		await ledger.append(txs);
	}
	const logged: ReadEvent[] = [];
	const log = { log: (reads: readonly ReadEvent[]) => logged.push(...reads), logAction: () => {} } as unknown as ReadLog;
	const chart = new ChartManager({ book, ledger, clinicKey: null, refresh: async () => {} }, log, () => ({}));
	return { ledger, p, book, chart, logged, clock };
}

describe('ChartManager', () => {
	// The manager reads at the wall clock: the fixtures' grants hold around fixedNow().
	beforeEach(() => {
		vi.useFakeTimers({ toFake: ['Date'] });
		vi.setSystemTime(NOW);
	});
	afterEach(() => vi.useRealTimers());

	it('opens on a page, shows more, keeps what was shown after new blocks, reads the whole chart on demand', async () => {
		const { p, book, chart, logged, clock } = await scene();
		const whole = timelineOrder((await book.chart(p.id)).records);
		await chart.open(p.id);
		expect(chart.total).toBe(600);
		expect(chart.complete).toBe(false);
		expect(chart.wanted).toBe(FIRST_PAGE);
		// Whole blocks of 15 (one time each): 4 blocks for the first 50.
		expect(chart.records.length).toBe(60);
		expect(chart.records).toEqual(whole.slice(0, 60));
		expect(logged.map((r) => r.rid).sort()).toEqual(chart.records.map((r) => r.rid).sort());

		await chart.showMore();
		expect(chart.wanted).toBe(FIRST_PAGE + MORE);
		expect(chart.records.length).toBe(255);
		expect(chart.records).toEqual(whole.slice(0, 255));
		// Each record read once: the first page is not read again.
		expect(logged.map((r) => r.rid).sort()).toEqual(chart.records.map((r) => r.rid).sort());

		clock.t += 60_000;
		await book.write(labOn(p.id, 'new', '2021-01-01T00:00:00Z'), { now: NOW });
		await chart.reload();
		expect(chart.total).toBe(601);
		expect(chart.records.length).toBeGreaterThanOrEqual(255);
		expect(chart.records[0]!.versions.at(-1)!.resource).toMatchObject({ effectiveDateTime: '2021-01-01T00:00:00Z' });
		expect(chart.records).toEqual(timelineOrder((await book.chart(p.id)).records).slice(0, chart.records.length));

		await chart.loadAll();
		expect(chart.complete).toBe(true);
		expect(chart.records.length).toBe(601);
		expect(chart.loading).toBeNull();
	});

	it('exports every record, never the page on screen', async () => {
		const { p, book, chart } = await scene();
		await chart.open(p.id);
		expect(chart.complete).toBe(false);
		// The export reads the chart itself, a step of records at a time (bundle-export.ts).
		const read = vi.spyOn(book, 'readRecords');
		const partial = await chart.exportPatient(p.id);
		expect(read).toHaveBeenCalledTimes(1);
		expect(read.mock.calls[0]![2]).toHaveLength(600);
		expect(
			(JSON.parse(await partial!.file.text()) as { entry: { resource: { resourceType: string } }[] }).entry.filter(
				(e) => e.resource.resourceType === 'Observation'
			)
		).toHaveLength(600);
		await chart.loadAll();
		read.mockClear();
		await chart.exportPatient(p.id);
		// The whole chart is read: it is exported as read.
		expect(read).not.toHaveBeenCalled();
	});

	it('exports the same Bundle whatever the step it reads the chart in', async () => {
		const { p, book } = await scene();
		const whole = await exportBundle(book, p.id, { now: NOW, records: (await book.chart(p.id, NOW)).records });
		expect(whole.bundle.entry).toHaveLength(600 + 40);
		for (const step of [1, 7, 599, 600, 2000]) expect(await exportBundle(book, p.id, { now: NOW, step })).toEqual(whole);
	});

	it("while another patient's chart is read, shows none of the chart open before under the new name", async () => {
		const { ledger, p, book, chart } = await scene();
		const q = patientKey();
		await ledger.append([grant(q, authorOf('clinic-a'), ['labs'])]);
		await book.write(labOn(q.id, 'other patient', '2020-02-01T00:00:00Z'), { now: NOW });
		await chart.open(p.id);
		expect(chart.reading).toBe(false);
		expect(chart.total).toBe(600);
		const opening = chart.open(q.id);
		// Before the new chart is read: the new patient selected, nothing of the previous one shown.
		expect(chart.selected).toBe(q.id);
		expect(chart.reading).toBe(true);
		expect(chart.records).toEqual([]);
		expect(chart.total).toBe(0);
		await opening;
		expect(chart.reading).toBe(false);
		expect(chart.total).toBe(1);
		expect(chart.records.map((r) => r.patient)).toEqual([q.id]);
		// Re-reading the same chart keeps it on screen meanwhile.
		const again = chart.reload();
		expect(chart.records).toHaveLength(1);
		await again;
	});
});
