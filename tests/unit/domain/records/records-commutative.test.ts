// Records give the same answers whatever order their blocks arrive in. The records fold
// (keys, requests) is commutative (fold.ts `commutative`): applying the same blocks in any
// order gives the state folding them in ledger order gives. The record index
// (record-index.ts) answers from rows the store keeps in ledger order: written in any
// order, in batches of any size, its readers give what the fold it replaced gave (kept
// below as the model: each version filed in ledger order). Checked on generated blocks full
// of the cases where order used to matter: a record id claimed for several patients and
// categories, committed (salted) and uncommitted versions, late earlier versions, repeated
// request ids, wraps of one key in several blocks, ties of clock.
import { describe, expect, it } from 'vitest';
import { compareOrder, factRows, orderKey, type Block, type Tx } from '$lib/core/index.js';
import { MemoryStore } from '$lib/core/storage/memory.js';
import { prng } from '$lib/core/testing/prng.js';
import type { Category } from '$lib/domain/privacy/envelope.js';
import { compareVersions, recordsFold, type RecordEntry, type RecordVersion } from '$lib/domain/records/fold.js';
import {
	demographicRecords,
	patientDemographicsIndex,
	PATIENT_RECORDS,
	patientRecordsIndex,
	readRecord,
	recordPatients,
	recordVersionsIndex
} from '$lib/domain/records/record-index.js';
import { PatientRecords, patientRecords } from '$lib/domain/records/patient-records.js';
import { canonicalState } from '../../support/canonical-state.js';
import { bytes, generatedBlock, hexId, storeReader, writtenInBatches } from './index-support.js';

function generate(seed: number): Block[] {
	const rand = prng(seed);
	const pick = <T>(items: readonly T[]) => items[Math.floor(rand() * items.length)]!;
	const patients = [1, 2, 3].map((n) => bytes(n, 32));
	const categories = ['labs', 'encounters', 'demographics'];
	// Each record id is committed to one owner: a salted version always names it (the rule checks the commitment).
	const rids = [1, 2, 3, 4, 5].map((n) => ({
		rid: bytes(100 + n, 16),
		// Some ids are never committed: written before ids were commitments, contested between patients.
		salt: n % 2 === 0 ? bytes(200 + n, 16) : null,
		patient: pick(patients),
		category: pick(categories)
	}));
	const blocks: Block[] = [];
	for (let i = 0; i < 40; i++) {
		const txs: Tx[] = [];
		for (let t = 0; t < 1 + Math.floor(rand() * 3); t++) {
			const kind = rand();
			if (kind < 0.55) {
				const r = pick(rids);
				const salted = r.salt !== null && rand() < 0.4;
				const owner = salted || rand() < 0.5;
				txs.push({
					t: 'record.put',
					rid: r.rid,
					patient: owner ? r.patient : pick(patients),
					category: owner ? r.category : pick(categories),
					epoch: Math.floor(rand() * 2),
					kid: bytes(Math.floor(rand() * 3), 16),
					...(salted ? { salt: r.salt! } : {}),
					...(rand() < 0.3 ? { prev: bytes(7, 32) } : {}),
					nonce: bytes(i, 24),
					ct: bytes(i, 10 + Math.floor(rand() * 20))
				});
			} else if (kind < 0.8) {
				txs.push({
					t: 'key.wrap',
					kid: bytes(Math.floor(rand() * 3), 16),
					patient: pick(patients),
					category: pick(categories),
					epoch: 0,
					wraps: [{ reader: pick(patients), eph: bytes(i, 32), nonce: bytes(i + 1, 24), wrapped: bytes(i + 2, 48) }]
				});
			} else {
				txs.push({
					t: rand() < 0.5 ? 'access.request' : 'access.breakglass',
					id: bytes(300 + Math.floor(rand() * 3), 16),
					patient: pick(patients),
					categories: [pick(categories)],
					reason: `reason ${i}`,
					purpose: 'treatment'
				});
			}
		}
		blocks.push(generatedBlock(rand, i, txs));
	}
	// Records written once under a committed id (every one an import writes): one claim each, anywhere in the ledger.
	for (let n = 6; n <= 9; n++) {
		const block = pick(blocks);
		(block.txs as Tx[]).push({
			t: 'record.put',
			rid: bytes(100 + n, 16),
			patient: pick(patients),
			category: pick(categories),
			epoch: 0,
			kid: bytes(n, 16),
			salt: bytes(200 + n, 16),
			nonce: bytes(n, 24),
			ct: bytes(n, 12)
		});
	}
	return blocks;
}

const fold = (blocks: readonly Block[]) => canonicalState(blocks.reduce((s, b) => recordsFold.apply(s, b), recordsFold.init()));

describe('records fold: commutative', () => {
	it('reaches the in-order state from 50 arrival orders of each of 30 generated ledgers', () => {
		for (let seed = 1; seed <= 30; seed++) {
			const blocks = generate(seed);
			const inOrder = [...blocks].sort((a, b) => compareOrder(orderKey(a), orderKey(b)));
			const expected = fold(inOrder);
			const rand = prng(seed * 7);
			for (let run = 0; run < 50; run++) {
				const order = [...blocks];
				for (let i = order.length - 1; i > 0; i--) {
					const j = Math.floor(rand() * (i + 1));
					[order[i], order[j]] = [order[j]!, order[i]!];
				}
				expect(fold(order)).toBe(expected);
			}
			// And through a checkpoint in the middle, as the engine does.
			const half = recordsFold.decode(
				recordsFold.encode(inOrder.slice(0, 20).reduce((s, b) => recordsFold.apply(s, b), recordsFold.init()))
			);
			expect(canonicalState(inOrder.slice(20).reduce((s, b) => recordsFold.apply(s, b), half))).toBe(expected);
		}
	});
});

// ---- The model: the records fold before its records moved to the store (filed in ledger order). ----
interface ModelState {
	records: Record<string, RecordEntry>;
	patients: Record<string, string[]>;
}
const hex = (b: unknown) => Buffer.from(b as Uint8Array).toString('hex');
/** A version and the patient and category it names. */
interface Claim {
	readonly patient: string;
	readonly category: Category;
	readonly version: RecordVersion;
}

/**
 * Files a version under record `rid`. A record belongs to the patient and category its id
 * commits to (`salt`); a record written before ids were commitments, to those of its
 * first version in ledger order. Against a committed binding an uncommitted version
 * naming others is void; against an uncommitted one it is kept aside (`contested`) until
 * a committed version decides. Every list is in ledger order, so the outcome is the same
 * whatever order the versions arrive in (the fold is commutative).
 */
function putRecord(
	state: ModelState,
	rid: string,
	patient: string,
	category: Category,
	salt: string | undefined,
	version: RecordVersion
): void {
	const entry = state.records[rid];
	if (!entry) {
		state.records[rid] = { patient, category, ...(salt ? { salt } : {}), versions: [version] };
		placeRid(state, patient, rid);
		return;
	}
	const agrees = entry.patient === patient && entry.category === category;
	if (agrees && (entry.salt || !salt || entry.contested === undefined)) {
		// The common case: another version of the record as bound (a committed one commits the binding).
		const versions = inserted(entry.versions, version, compareVersions);
		state.records[rid] = { ...entry, ...(salt && !entry.salt ? { salt } : {}), versions };
		if (versions[0] !== entry.versions[0]) placeRid(state, patient, rid);
		return;
	}
	// Against a committed binding an uncommitted claim is void; two committed ones cannot disagree (the rule checked both).
	if (entry.salt) return;
	const claims: Claim[] = [
		...entry.versions.map((v) => ({ patient: entry.patient, category: entry.category, version: v })),
		...(entry.contested ?? []),
		{ patient, category, version }
	].sort((a, b) => compareVersions(a.version, b.version));
	// Bound by the committed version if there is one, else by the first version in ledger order.
	const binding = salt ? { patient, category } : claims[0]!;
	const bound = (c: Claim) => c.patient === binding.patient && c.category === binding.category;
	const contested = salt ? [] : claims.filter((c) => !bound(c));
	state.records[rid] = {
		patient: binding.patient,
		category: binding.category,
		...(salt ? { salt } : {}),
		versions: claims.filter(bound).map((c) => c.version),
		...(contested.length > 0 ? { contested } : {})
	};
	if (binding.patient !== entry.patient) unplaceRid(state, entry.patient, rid);
	placeRid(state, binding.patient, rid);
}

/** Takes `rid` off `patient`'s list of records. */
function unplaceRid(state: ModelState, patient: string, rid: string): void {
	const rids = state.patients[patient]?.filter((r) => r !== rid) ?? [];
	if (rids.length > 0) state.patients[patient] = rids;
	else delete state.patients[patient];
}

/** Puts `rid` in `patient`'s list of records, ordered by each record's first version in ledger order. */
function placeRid(state: ModelState, patient: string, rid: string): void {
	const first = (r: string) => state.records[r]!.versions[0]!;
	const rids = (state.patients[patient] ??= []);
	const at = rids.indexOf(rid);
	if (at >= 0 && rids.length > 1) rids.splice(at, 1);
	else if (at >= 0) return;
	let to = rids.length;
	while (to > 0 && compareVersions(first(rids[to - 1]!), first(rid)) > 0) to--;
	rids.splice(to, 0, rid);
}

/** `list` with `item` inserted in order (from the end). */
function inserted<T>(list: readonly T[], item: T, compare: (a: T, b: T) => number): T[] {
	let at = list.length;
	while (at > 0 && compare(list[at - 1]!, item) > 0) at--;
	return [...list.slice(0, at), item, ...list.slice(at)];
}

function model(inOrder: readonly Block[]): ModelState {
	const state: ModelState = { records: {}, patients: {} };
	for (const block of inOrder)
		block.txs.forEach((tx, index) => {
			if (tx.t !== 'record.put') return;
			const version: RecordVersion = {
				block: block.id,
				clock: block.clock,
				index,
				author: block.author,
				time: block.time,
				kid: hex(tx.kid),
				epoch: tx.epoch as number,
				prev: tx.prev instanceof Uint8Array ? hex(tx.prev) : null,
				size: (tx.ct as Uint8Array).length
			};
			putRecord(
				state,
				hex(tx.rid),
				hex(tx.patient),
				tx.category as Category,
				tx.salt instanceof Uint8Array ? hex(tx.salt) : undefined,
				version
			);
		});
	return state;
}

const INDEXES = [recordVersionsIndex, patientRecordsIndex, patientDemographicsIndex];

describe('record index: the same records whatever the arrival order', () => {
	it('answers as the fold it replaced, for 20 arrival orders in batches of 1-8 of each of 30 generated ledgers', async () => {
		let contested = 0;
		let moved = 0;
		let lazy = 0;
		let made = 0;
		for (let seed = 1; seed <= 30; seed++) {
			const blocks = generate(seed);
			const inOrder = [...blocks].sort((a, b) => compareOrder(orderKey(a), orderKey(b)));
			const want = model(inOrder);
			contested += Object.values(want.records).filter((r) => r.contested).length;
			const rand = prng(seed * 11);
			for (let run = 0; run < 20; run++) {
				const order = [...blocks].sort(() => rand() - 0.5);
				const ledger = await writtenInBatches(order, INDEXES, rand);
				for (const [rid, entry] of Object.entries(want.records)) expect(await readRecord(ledger, rid)).toEqual(entry);
				const patients: string[] = [];
				for await (const p of recordPatients(ledger)) patients.push(p);
				// Every patient a put names is listed; those whose every claim lost have no records.
				expect(patients.filter((p) => want.patients[p])).toEqual(Object.keys(want.patients).sort());
				for (const p of patients) {
					const got = await patientRecords(ledger, p);
					expect(got.map(([rid]) => rid)).toEqual(want.patients[p] ?? []);
					for (const [rid, entry] of got) expect(entry).toEqual(want.records[rid]);
					// What a chart reads of each record before making its entry (patient-records.ts) agrees with the entry.
					const list = await PatientRecords.read(ledger, p);
					for (let i = 0; i < list.length; i++) {
						const entry = want.records[list.rid(i)]!;
						expect(list.category(i)).toBe(entry.category);
						const only = list.onlyTime(i);
						if (only === undefined) made++;
						else {
							lazy++;
							expect(entry.versions).toHaveLength(1);
							expect(only).toBe(entry.versions[0]!.time);
						}
					}
				}
				const demographics = await demographicRecords(ledger);
				for (const p of Object.keys(want.patients)) {
					const wanted = want.patients[p]!.filter((rid) => want.records[rid]!.category === 'demographics');
					expect((demographics.get(p) ?? []).map(([rid]) => rid)).toEqual(wanted);
				}
				if (run === 0) moved += patients.filter((p) => !want.patients[p]).length;
			}
		}
		// The generator reaches the contested cases (uncommitted claims for other patients), and claims that lost.
		expect(contested).toBeGreaterThan(5);
		expect(moved).toBeGreaterThan(0);
		// Both ways a chart's record is read: from its one line when asked, and made at once.
		expect(lazy).toBeGreaterThan(50);
		expect(made).toBeGreaterThan(50);
	});
});

describe('record index: large blocks', () => {
	it("writes a block's puts under one key in one row, fields repeated from the line before left out, read back whole and in order", async () => {
		// Blocks as an import writes them: hundreds of puts, most of one patient, some of Patient records (the registry's key).
		const patients = [1, 2].map((n) => bytes(n, 32));
		const categories = ['labs', 'demographics', 'encounters'];
		// Distinct ids and salts (bytes() repeats every 256).
		const unique = (n: number) => Uint8Array.from({ length: 16 }, (_, i) => (i < 4 ? (n >> (8 * i)) & 255 : i));
		const blocks = [0, 1, 2].map((b) => {
			const txs: Tx[] = Array.from({ length: 700 }, (_, i) => ({
				t: 'record.put',
				rid: unique(1000 * b + i),
				patient: patients[i % 7 === 0 ? 1 : 0]!,
				category: categories[i % 3]!,
				epoch: 0,
				kid: bytes(b, 16),
				...(i % 5 === 0 ? {} : { salt: unique(50_000 + 1000 * b + i) }),
				nonce: bytes(i, 24),
				ct: bytes(i, 20 + (i % 9))
			}));
			return { id: hexId(10 + b), author: hexId(1), seq: b, clock: b, time: 1000 + b, txs } as unknown as Block;
		});
		const want = model(blocks);
		const store = new MemoryStore();
		const rows = blocks.flatMap((b) => INDEXES.flatMap((f) => factRows(f, b)));
		// A field equal to the line before's is left empty: a block's row under a patient names the patient once.
		for (const row of rows.filter((r) => r.fold === PATIENT_RECORDS)) expect((row.value as string).split(row.key).length).toBe(2);
		await store.writeFacts([...rows].reverse(), []);
		const ledger = storeReader(store);
		for (const p of Object.keys(want.patients)) {
			const got = await patientRecords(ledger, p);
			expect(got.map(([rid]) => rid)).toEqual(want.patients[p]);
			for (const [rid, entry] of got) expect(entry).toEqual(want.records[rid]);
		}
		const demographics = await demographicRecords(ledger);
		for (const p of Object.keys(want.patients))
			expect((demographics.get(p) ?? []).map(([rid]) => rid)).toEqual(
				want.patients[p]!.filter((rid) => want.records[rid]!.category === 'demographics')
			);
		for (const rid of Object.keys(want.records).slice(0, 50)) expect(await readRecord(ledger, rid)).toEqual(want.records[rid]);
	});
});
