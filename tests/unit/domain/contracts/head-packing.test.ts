// The claims head's coverages and authorizations packed as rows with numbered keys
// (src/lib/domain/contracts/head-packing.ts, checkpoint.ts): random payers round-trip to
// equal objects in the same order; an entry of another shape keeps the whole part as
// objects; a checkpoint written before (objects) decodes to the same state and encodes again
// to the bytes this release writes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeCanonical } from '$lib/core/index.js';
import { foldBlocks } from '$lib/core/testing/fold-contexts.js';
import { claimsFold, type Authorization, type ClaimsState, type Coverage } from '$lib/domain/contracts/index.js';
import { packPayers, unpackPayers, type Payers } from '$lib/domain/contracts/head-packing.js';
import { syntheticClaims } from '../../../synthetic/claims.js';
import { canonicalState } from '../../support/canonical-state.js';

const hex = fc.stringMatching(/^[0-9a-f]{64}$/);
// Ids as the rules allow them, integer-like ones included (objects order those first).
const id = fc.oneof(fc.stringMatching(/^[A-Za-z0-9.-]{1,12}$/), fc.nat({ max: 999 }).map(String));
const place = fc.tuple(fc.nat({ max: 1e6 }), hex, fc.nat({ max: 20 }));
const coverage = (cid: string) =>
	fc
		.record({ payer: hex, plan: id, patient: hex, start: fc.nat({ max: 30000 }), end: fc.option(fc.nat({ max: 30000 })), at: place })
		.map((c): Coverage => ({
			id: cid,
			payer: c.payer,
			plan: c.plan,
			patient: c.patient,
			start: c.start,
			end: c.end,
			block: c.at[1],
			at: c.at
		}));
const auth = (aid: string) =>
	fc
		.record({ payer: hex, coverage: id, code: id, start: fc.nat({ max: 30000 }), end: fc.nat({ max: 30000 }), at: place })
		.map((a): Authorization => ({
			id: aid,
			payer: a.payer,
			coverage: a.coverage,
			code: a.code,
			start: a.start,
			end: a.end,
			block: a.at[1],
			at: a.at
		}));
const entries = <T>(make: (key: string) => fc.Arbitrary<T>) =>
	fc.uniqueArray(id, { maxLength: 12 }).chain((ids) => fc.tuple(...ids.map((k) => make(k).map((v) => [k, v] as const))));
const payers: fc.Arbitrary<Payers> = fc
	.record({
		coverages: entries(coverage),
		history: entries((k) => fc.array(coverage(k), { minLength: 1, maxLength: 3 })),
		auths: entries(auth)
	})
	.map((p) => ({
		coverages: Object.fromEntries(p.coverages),
		coverageHistory: Object.fromEntries(p.history),
		auths: Object.fromEntries(p.auths)
	}));

/** A key's place in `list`, as the claims state's index of its key list answers. */
const placeIn = (list: readonly string[]) => {
	const places = new Map(list.map((k, i) => [k, i]));
	return (key: string) => places.get(key);
};

describe('the claims head packed for a checkpoint', () => {
	it('coverages, replaced versions and authorizations round-trip through JSON to equal objects in the same order', () => {
		fc.assert(
			fc.property(payers, fc.array(hex, { maxLength: 6 }), fc.boolean(), (p, extra, shareKeys) => {
				// Some keys already in the key list (patients and members are), some not.
				const keyList = shareKeys ? [...extra, ...Object.values(p.coverages).map((c) => c.patient)] : extra;
				const packed = packPayers(p, keyList, placeIn(keyList));
				expect(packed).not.toBeNull();
				const back = unpackPayers(JSON.parse(JSON.stringify(packed)), keyList);
				expect(JSON.stringify(back)).toBe(JSON.stringify(p));
				// Keys in the list are not repeated in the table.
				for (const k of packed!.keys) expect(keyList).not.toContain(k);
			}),
			{ numRuns: 200 }
		);
	});

	it('an entry of another shape than the fold makes leaves the part as objects', () => {
		const c: Coverage = {
			id: 'c1',
			payer: 'a'.repeat(64),
			plan: 'p',
			patient: 'b'.repeat(64),
			start: 1,
			end: null,
			block: 'c'.repeat(64),
			at: [1, 'c'.repeat(64), 0]
		};
		const payersOf = (coverages: Record<string, unknown>): Payers => ({
			coverages: coverages as Payers['coverages'],
			coverageHistory: {},
			auths: {}
		});
		expect(packPayers(payersOf({ c1: c }), [], placeIn([]))).not.toBeNull();
		expect(packPayers(payersOf({ c2: c }), [], placeIn([]))).toBeNull(); // filed under another id
		expect(packPayers(payersOf({ c1: { ...c, note: 'x' } }), [], placeIn([]))).toBeNull(); // a field more
		expect(packPayers(payersOf({ c1: { ...c, at: [1, 'c'.repeat(64)] } }), [], placeIn([]))).toBeNull(); // not a place
		const { end: _, ...short } = c;
		expect(packPayers(payersOf({ c1: short }), [], placeIn([]))).toBeNull(); // a field less
		const { at: __, ...placeless } = c;
		expect(packPayers(payersOf({ c1: placeless }), [], placeIn([]))).toBeNull(); // no place at all
	});

	it('a fold’s checkpoint holds them as pages beside the head; both forms written before (rows, objects) decode to the same state, encoded again to the same bytes', () => {
		const state = foldBlocks(claimsFold, syntheticClaims({ seed: 5, claims: 120, fraud: true }).blocks) as ClaimsState;
		const versions = state.coverages.toJSON();
		expect(Object.keys(versions).length).toBeGreaterThan(0);
		const value = claimsFold.encode(state) as { head: Uint8Array; pages: Uint8Array[]; coverages: unknown; auths: unknown };
		const head = JSON.parse(new TextDecoder().decode(value.head)) as Record<string, unknown>;
		expect(head.payers).toBeUndefined();
		expect(head.coverages).toBeUndefined();
		const decoded = claimsFold.decode(value as never) as ClaimsState;
		expect(canonicalState(decoded)).toBe(canonicalState(state));
		// The payers as the releases before wrote them in the head: as objects, and as rows.
		const payers: Payers = {
			coverages: Object.fromEntries(Object.entries(versions).map(([id, v]) => [id, v.at(-1)!])),
			coverageHistory: Object.fromEntries(Object.entries(versions).flatMap(([id, v]) => (v.length > 1 ? [[id, v.slice(0, -1)]] : []))),
			auths: state.auths.toJSON()
		};
		const keyList = state.pages.keyList;
		const rows = packPayers(payers, keyList, (key) => (keyList.includes(key) ? keyList.indexOf(key) : undefined))!;
		const reencoded = (text: unknown) =>
			encodeCanonical(claimsFold.encode(claimsFold.decode({ head: new TextEncoder().encode(JSON.stringify(text)), pages: value.pages })));
		// Those releases kept the transactions naming a claim not made yet in the head too.
		const orphans = state.orphans.toJSON();
		for (const before of [
			{ ...head, ...payers, orphans },
			{ ...head, payers: rows, orphans }
		]) {
			const fromOld = claimsFold.decode({ head: new TextEncoder().encode(JSON.stringify(before)), pages: value.pages }) as ClaimsState;
			expect(canonicalState(fromOld)).toBe(canonicalState(state));
			// Every coverage and authorization in memory, to be stored as rows at the next checkpoint.
			expect(fromOld.coverages.changed().length + fromOld.auths.changed().length).toBe(
				Object.keys(versions).length + Object.keys(payers.auths).length
			);
			expect(reencoded(before)).toEqual(encodeCanonical(value as never));
		}
	});
});
