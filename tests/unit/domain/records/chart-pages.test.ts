/**
 * The chart read a page at a time (chart-pages.ts): for patients with many records —
 * imports writing hundreds of records in one block (one ledger time), blocks sharing a
 * time, ledger times going backwards, amendments, and newest versions that do not open
 * (so an older version, with another time, is current) — the first N entries of the paged
 * chart, for several N and after "more", are exactly the first N of the whole chart in
 * timeline order, and only the records actually decrypted are reported as reads.
 */
import { describe, expect, it } from 'vitest';
import { authorOf, fixedNow, foundNetwork, testSecret } from '$lib/core/testing/fixtures.js';
import type { Ledger, Tx } from '$lib/core/index.js';
import { APP_FOLDS, APP_INDEXES } from '$lib/domain/fold-registry.js';
import { APP_RULES } from '$lib/domain/rule-registry.js';
import { encryptionSecretKey } from '$lib/domain/privacy/envelope.js';
import { RecordBook, type ReadEvent } from '$lib/domain/records/book.js';
import { ChartPages, timelineOrder } from '$lib/domain/records/chart-pages.js';
import { patientRecords } from '$lib/domain/records/patient-records.js';
import { readRecord } from '$lib/domain/records/record-index.js';
import type { ClinicalResource } from '$lib/domain/records/fhir.js';
import { Keyring } from '$lib/domain/records/keyring.js';
import { grant, labResult, patientKey } from '../../support/patients.js';

const NOW = fixedNow();
const MINUTE = 60_000;
const SLOW = 120_000;

/** A deterministic generator (mulberry32). */
function random(seed: number) {
	let a = seed;
	return () => {
		a = (a + 0x6d2b79f5) | 0;
		let t = Math.imul(a ^ (a >>> 15), 1 | a);
		t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

const bookOf = (ledger: Ledger, label: string) =>
	new RecordBook(ledger, new Keyring(authorOf(label), encryptionSecretKey(testSecret(label))));

const day = (rand: () => number) => `20${String(10 + Math.floor(rand() * 15))}-0${1 + Math.floor(rand() * 9)}-1${Math.floor(rand() * 9)}`;
const lab = (patient: string, rand: () => number, text: string): ClinicalResource =>
	({
		...labResult(patient, text),
		// Few distinct dates: ties on the clinical date too, down to block and record id.
		effectiveDateTime: `${day(rand)}T09:00:00Z`
	}) as ClinicalResource;
const encounter = (patient: string, rand: () => number): ClinicalResource =>
	({
		resourceType: 'Encounter',
		status: 'finished',
		class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
		subject: { reference: `Patient/${patient}` },
		period: { start: `${day(rand)}T10:00:00Z` }
	}) as ClinicalResource;

/**
 * Patient P's ledger: clinic A (granted encounters and labs) writes imports of hundreds of
 * records per block at one time, visits in blocks that share a time or go back in time,
 * amendments later and earlier in time, and versions that do not open (newest by ledger
 * order, later and earlier in time). Clinic B is granted labs only: encounters are sealed
 * for it.
 */
async function scene(seed: number) {
	const rand = random(seed);
	const clock = { t: NOW - 600 * MINUTE };
	const a = await foundNetwork({
		rules: APP_RULES,
		folds: APP_FOLDS,
		indexes: APP_INDEXES,
		founder: 'clinic-a',
		members: { 'clinic-b': 'clinician' },
		now: () => clock.t
	});
	const p = patientKey();
	await a.append([grant(p, authorOf('clinic-a'), ['encounters', 'labs']), grant(p, authorOf('clinic-b'), ['labs'])]);
	const A = bookOf(a, 'clinic-a');
	const rids: string[] = [];
	const write = async (resources: ClinicalResource[], time: number) => {
		clock.t = time;
		const txs: Tx[] = [];
		for (const r of resources) {
			const sealed = await A.sealTxs(r, { now: NOW });
			txs.push(...sealed.txs);
			rids.push(sealed.rid);
		}
		await a.append(txs);
	};
	const entryOf = async (rid: string) => (await readRecord(a, rid))!;
	// Two imports at one time each (300 and 250 records in one block), and visits around them.
	let t = NOW - 500 * MINUTE;
	for (let i = 0; i < 30; i++) {
		t += Math.floor(rand() * 3) * MINUTE; // several blocks share a time
		if (i === 10)
			await write(
				Array.from({ length: 300 }, (_, j) => lab(p.id, rand, `import-1 ${j}`)),
				t
			);
		else if (i === 20)
			await write(
				Array.from({ length: 250 }, (_, j) => (j % 5 ? lab(p.id, rand, `import-2 ${j}`) : encounter(p.id, rand))),
				t
			);
		else if (i % 7 === 3)
			await write([encounter(p.id, rand)], t - 40 * MINUTE); // a clock behind: time goes back
		else await write([encounter(p.id, rand), lab(p.id, rand, `visit ${i}`), lab(p.id, rand, `visit ${i} b`)], t);
	}
	// Amendments: later in time, and earlier in time than the version they amend.
	for (let i = 0; i < 40; i++) {
		const rid = rids[Math.floor(rand() * rids.length)]!;
		const entry = await entryOf(rid);
		const resource = entry.category === 'labs' ? lab(p.id, rand, `amended ${i}`) : encounter(p.id, rand);
		clock.t = i % 3 === 0 ? entry.versions.at(-1)!.time - 90 * MINUTE : t + (i + 1) * MINUTE;
		const sealed = await A.sealTxs(resource, { now: NOW, rid, prev: entry.versions.at(-1)!.block });
		await a.append(sealed.txs);
	}
	// Newest versions by the writer itself that do not open (a changed ciphertext): the version before stays current, with its own time.
	for (let i = 0; i < 12; i++) {
		const rid = rids[Math.floor(rand() * rids.length)]!;
		const entry = await entryOf(rid);
		const good = await A.sealTxs(entry.category === 'labs' ? lab(p.id, rand, 'x') : encounter(p.id, rand), {
			now: NOW,
			rid,
			prev: entry.versions.at(-1)!.block
		});
		const put = good.txs.find((tx) => tx.t === 'record.put')!;
		const ct = (put.ct as Uint8Array).slice();
		ct[0]! ^= 0xff;
		clock.t = i % 2 ? NOW - 700 * MINUTE : t + 100 * MINUTE + i * MINUTE;
		await a.append([...good.txs.filter((tx) => tx !== put), { ...put, ct }]);
	}
	return { a, p, A, B: bookOf(a, 'clinic-b') };
}

const readRids = (reads: readonly ReadEvent[]) => reads.map((r) => r.rid!);

/** The paged chart's entries for `counts` read one after another ("more"), checked against the whole chart's order. */
async function checkPaging(book: RecordBook, patient: string, counts: readonly number[]) {
	const whole = await book.chart(patient, NOW);
	const full = timelineOrder(whole.records);
	const pages = await ChartPages.open(book, patient, NOW);
	expect(pages.total).toBe(full.length);
	const reads: ReadEvent[] = [];
	for (const count of counts) {
		const step = await pages.load(count);
		reads.push(...step);
		const shown = pages.records;
		expect(shown.length).toBeGreaterThanOrEqual(Math.min(count, full.length));
		expect(shown).toEqual(full.slice(0, shown.length));
		// Only what was decrypted is a read, each once: the records read so far, where some version opened.
		expect(new Set(readRids(reads)).size).toBe(reads.length);
		expect(reads.length).toBeLessThanOrEqual(pages.read);
		for (const record of shown) if (record.versions.some((v) => v.resource)) expect(readRids(reads)).toContain(record.rid);
		expect(readRids(whole.reads)).toEqual(expect.arrayContaining(readRids(reads)));
		if (pages.complete) expect(pages.sealed).toBe(full.filter((r) => r.versions.at(-1)!.sealed === 'no-access').length);
	}
	return { pages, full, reads, whole };
}

describe('ChartPages', () => {
	for (const seed of [1, 2, 3]) {
		it(
			`gives exactly the whole chart's first N entries, for several N and after more (seed ${seed})`,
			async () => {
				const { p, A, a } = await scene(seed);
				const last = new Map((await patientRecords(a, p.id)).map(([rid, e]) => [rid, e.versions.at(-1)!.block]));
				// The scene holds records whose judged current version is not the last in ledger order.
				const { records: all } = await A.chart(p.id, NOW);
				expect(all.filter((r) => r.versions.at(-1)!.block !== last.get(r.rid)).length).toBeGreaterThan(0);
				expect(all.filter((r) => r.versions.length > 1).length).toBeGreaterThan(10);

				for (const n of [1, 10, 50, 137, 300]) {
					const { pages, reads, full } = await checkPaging(A, p.id, [n]);
					// A first screen does not decrypt the chart.
					if (n <= 50) expect(reads.length).toBeLessThan(full.length / 2);
					expect(pages.complete).toBe(pages.read === full.length);
				}
				const { pages, reads, whole } = await checkPaging(A, p.id, [50, 250, 450, 700, Infinity]);
				expect(pages.complete).toBe(true);
				expect(pages.records).toEqual(timelineOrder(whole.records));
				expect(readRids(reads).sort()).toEqual(readRids(whole.reads).sort());
			},
			SLOW
		);
	}

	it(
		'counts sealed records without reading them, and reads only what a reader may open',
		async () => {
			const { p, B } = await scene(4);
			const { pages, full, reads } = await checkPaging(B, p.id, [50]);
			const sealed = full.filter((r) => r.versions.at(-1)!.sealed === 'no-access').length;
			expect(sealed).toBeGreaterThan(20);
			// Encounters are sealed for B: counted from the fold, not read.
			expect(pages.sealed).toBe(sealed);
			expect(reads.every((r) => r.category === 'labs')).toBe(true);
			await checkPaging(B, p.id, [1, 200, Infinity]);
		},
		SLOW
	);

	it(
		'a paged chart read after new blocks keeps its order (the state it was made from)',
		async () => {
			const { p, A } = await scene(5);
			const before = await ChartPages.open(A, p.id, NOW);
			await before.load(50);
			await A.write(lab(p.id, random(9), 'late'), { now: NOW });
			const after = await ChartPages.open(A, p.id, NOW);
			await after.load(before.records.length);
			expect(after.total).toBe(before.total + 1);
			expect(after.records.length).toBeGreaterThanOrEqual(before.records.length);
			expect(after.records).toEqual(timelineOrder((await A.chart(p.id, NOW)).records).slice(0, after.records.length));
		},
		SLOW
	);
});
