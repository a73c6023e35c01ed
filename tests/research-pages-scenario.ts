/**
 * The research pages scenario (domain/research/pages.ts; the engine's side is
 * core/ledger/fold-pages.ts), run on the memory store
 * (tests/unit/domain/research/research-pages.test.ts) and on real IndexedDB in Chromium
 * (tests/browser/research-pages.test.ts): three studies with approvals, patients' consents,
 * queries (accepted, refused, and one reusing another study's query id) and sealed results,
 * written by two clinics and a researcher. Observers with a checkpoint after every block
 * receive the blocks in random orders and batchings; the studies they read back (from memory
 * and the store's rows), and again after a reopen that holds no page in memory, equal the
 * writers'. Compared as canonical CBOR (the same bytes for the same studies, in Node and in
 * the browser).
 */
import { expect } from 'vitest';
import { encodeCanonical, Ledger, toHex, type CborValue, type LedgerStore, type Tx } from '../src/lib/core/index.js';
import { authorOf, joinNetwork, testSigner } from '../src/lib/core/testing/fixtures.js';
import { prng } from '../src/lib/core/testing/prng.js';
import { seededRng } from '../src/lib/demo/seeded-rng.js';
import { APP_FOLDS, APP_INDEXES } from '../src/lib/domain/fold-registry.js';
import { APP_RULES } from '../src/lib/domain/rule-registry.js';
import type { ResearchState } from '../src/lib/domain/research/fold.js';
import { readQueryStudy, readResearch } from '../src/lib/domain/research/pages.js';
import { approveStudyTx, registerStudyTx, studyQueryTx, studyResultTx } from '../src/lib/domain/research/study.js';
import { causalOrder, shuffled } from './unit/support/arrival-orders.js';
import { consent, idOf, network, patient, study, sync } from './unit/domain/research/research-ledger-support.js';

const bytesOf = (value: unknown) => toHex(encodeCanonical(value as CborValue));

const COUNT = JSON.stringify({ cohort: {}, measure: { kind: 'count' } });
const sealed = (n: number) => ({
	eph: new Uint8Array(32).fill(n),
	knonce: new Uint8Array(24).fill(n),
	wrapped: new Uint8Array(48).fill(n),
	nonce: new Uint8Array(24).fill(n),
	ct: new Uint8Array(40).fill(n)
});

export async function researchNetwork() {
	const { clinicA, clinicB, researcher } = await network();
	const R = authorOf('researcher');
	const regs = [
		registerStudyTx(study()),
		registerStudyTx(study({ budget: 1_000, title: 'With a budget' })),
		registerStudyTx(study({ title: 'Never approved' }))
	];
	for (const reg of regs) await researcher.append([reg]);
	await sync(clinicA, clinicB, researcher);
	const [s0, s1, s2] = regs.map(idOf) as [string, string, string];
	await clinicA.append([approveStudyTx(s0)]);
	await clinicA.append([approveStudyTx(s1)]);
	await clinicB.append([approveStudyTx(s0)]);
	const rng = seededRng(11);
	for (const ledger of [clinicA, clinicB]) {
		const txs: Tx[] = [];
		for (let i = 0; i < 5; i++) txs.push(...consent(patient(rng), R, s0).txs);
		for (let i = 0; i < 3; i++) txs.push(...consent(patient(rng), R, s1).txs);
		await ledger.append(txs);
	}
	await sync(clinicA, clinicB, researcher);
	const q0 = studyQueryTx(s0, COUNT, 0);
	const q1 = studyQueryTx(s1, COUNT, 300);
	const refused = studyQueryTx(s2, COUNT, 0);
	// The same id in another study: the first query in ledger order holds it.
	const reused = studyQueryTx(s1, COUNT, 200, q0.id as Uint8Array);
	for (const q of [q0, q1, refused, reused]) await researcher.append([q]);
	await sync(clinicA, clinicB, researcher);
	await clinicA.append([studyResultTx(s0, idOf(q0), sealed(1))]);
	await clinicB.append([studyResultTx(s0, idOf(q0), sealed(2))]);
	await clinicA.append([studyResultTx(s1, idOf(q1), sealed(3))]);
	// A result for the study whose query reused q0's id: the id is s0's, so it counts nowhere.
	await clinicB.append([studyResultTx(s1, idOf(q0), sealed(4))]);
	await sync(clinicA, clinicB, researcher);
	const wire: Uint8Array[] = [];
	for await (const bytes of clinicA.blocksSince({})) wire.push(bytes);
	return { clinicA, wire, studies: [s0, s1, s2] as const, queries: { q0: idOf(q0), q1: idOf(q1), refused: idOf(refused) } };
}

/**
 * `trials` observers, each on the store `storeFor(trial)` gives (and the same store again,
 * `reopen`ed, after it is closed), receive the network's blocks in random orders and
 * batchings; returns how many study pages the reopened nodes held as rows.
 */
export async function checkResearchPages(
	trials: number,
	storeFor: (trial: number) => Promise<LedgerStore>,
	reopen: (trial: number, closed: LedgerStore) => Promise<LedgerStore>
): Promise<number> {
	const { clinicA, wire, studies, queries } = await researchNetwork();
	const whole = await readResearch(clinicA);
	expect(Object.keys(whole.studies).sort()).toEqual([...studies].sort());
	expect(whole.queries[queries.q0]!.study).toBe(studies[0]);
	expect(Object.keys(whole.queries[queries.q0]!.results)).toHaveLength(2);
	expect(Object.values(whole.queries).flatMap((q) => Object.values(q.results).map((r) => r.ct[0]))).not.toContain(4);
	expect(whole.queries[queries.q1]!.status).toBe('accepted');
	expect(whole.queries[queries.refused]!.status).toBe('refused');
	expect(whole.studies[studies[0]]!.spent).toBe(0);
	expect(whole.studies[studies[1]]!.spent).toBe(300);
	expect(Object.keys(whole.studies[studies[0]]!.consents)).toHaveLength(10);
	const reference = bytesOf(whole);
	const options = { rules: APP_RULES, folds: APP_FOLDS, indexes: APP_INDEXES, checkpointEvery: 1 };
	const random = prng(9);
	let stored = 0;
	for (let trial = 0; trial < trials; trial++) {
		const store = await storeFor(trial);
		const node = await joinNetwork(clinicA.net, `observer-${trial}`, { ...options, store });
		// Half the observers get the blocks in any order (most wait, parked, for what they depend on); half
		// in an order their dependencies allow, so each batch is folded by itself and pages leave memory between batches.
		const order = trial % 2 === 0 ? shuffled(wire, random) : causalOrder(wire, random);
		const size = [1, 4, 13, 60][Math.floor(trial / 2) % 4]!;
		for (let i = 0; i < order.length; i += size) await node.receive(order.slice(i, i + size));
		expect(node.size).toBe(wire.length);
		expect(bytesOf(await readResearch(node))).toBe(reference);
		// One study read alone, and a query's study.
		expect(bytesOf((await readResearch(node, [studies[1]])).studies)).toBe(bytesOf({ [studies[1]]: whole.studies[studies[1]] }));
		expect(Object.keys((await readQueryStudy(node, queries.q0)).studies)).toEqual([studies[0]]);
		await node.close();
		const again = await Ledger.open({ ...options, store: await reopen(trial, store), signer: testSigner(`observer-${trial}`) });
		const state = again.state().research as ResearchState;
		// Memory holds no study: every page is a row of the store.
		expect(state.pages.counts).toMatchObject({ decoded: 0, packed: 0 });
		stored += state.pages.counts.stored;
		// Nor a map of the queries: each query's study is read from the index.
		expect(Object.keys(state)).toEqual(['pages']);
		for (const [id, query] of Object.entries(whole.queries))
			expect(Object.keys((await readQueryStudy(again, id)).studies)).toEqual([query.study]);
		expect(() => state.pages.view(studies[0])).toThrow(/not read/);
		expect(bytesOf(await readResearch(again))).toBe(reference);
		await again.close();
	}
	return stored;
}
