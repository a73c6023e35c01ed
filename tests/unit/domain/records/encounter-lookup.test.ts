/**
 * The claims and supply folds check the encounter a claim line or a dose names against the
 * records index (`Fold.reads`), not a map in their state. What they find must be what a
 * fold over the blocks in the total order finds, on every node whatever order the blocks
 * arrived in: an encounter recorded before the claim counts, one that sorts after it does
 * not, however early it arrives; one of another clinic or another patient is flagged.
 */
import { describe, expect, it } from 'vitest';
import { compareOrder, decodeBlock, orderKey, toHex } from '$lib/core/index.js';
import { joinNetwork } from '$lib/core/testing/fixtures.js';
import { foldBlocks } from '$lib/core/testing/fold-contexts.js';
import { prng } from '$lib/core/testing/prng.js';
import { claimsFold } from '$lib/domain/contracts/index.js';
import { encountersOfPatient } from '$lib/domain/records/encounter-lookup.js';
import { supplyFold, supplyView } from '$lib/domain/supply/fold.js';
import { encounterFlags, ledgerEncounterFlags, OTHER, PATIENT, receiveShuffled, rid, scenario } from '../../../encounter-scenario.js';

describe('encounter records read from the records index', () => {
	it('every node, and 300 nodes receiving the blocks in random orders and batches, flag the same encounters as a fold in the total order', async () => {
		const { founder, options, all } = await scenario();
		const reference = await ledgerEncounterFlags(founder);
		// The scenario reaches both answers of each check.
		expect(reference.claims.map((f) => f.kind)).toContain('encounter-other-clinic');
		expect(reference.claims.map((f) => f.kind)).toContain('encounter-missing');
		expect(reference.supply.map(([, f]) => f.kind).sort()).toEqual(
			expect.arrayContaining(['encounter-patient-mismatch', 'no-encounter', 'no-encounter'])
		);
		for (const node of all) expect(await ledgerEncounterFlags(node)).toEqual(reference);

		// The same from the blocks alone, folded by hand in the total order (the model).
		const wire: Uint8Array[] = [];
		for await (const bytes of founder.blocksSince({})) wire.push(bytes);
		const ordered = wire.map((b) => decodeBlock(b)).sort((a, b) => compareOrder(orderKey(a), orderKey(b)));
		expect(encounterFlags(foldBlocks(claimsFold, ordered), supplyView(foldBlocks(supplyFold, ordered)))).toEqual(reference);

		const random = prng(20261204);
		for (let trial = 0; trial < 300; trial++) {
			const node = await joinNetwork(founder.net, 'observer', options);
			await receiveShuffled(node, wire, random);
			expect(node.size).toBe(wire.length);
			expect(await ledgerEncounterFlags(node)).toEqual(reference);
		}
	}, 120_000);

	it('a patient’s visits, newest first, one per block, from the patient’s records', async () => {
		const { founder } = await scenario();
		const visits = await encountersOfPatient(founder, toHex(PATIENT));
		expect(visits.map((v) => v.rid)).toEqual(expect.arrayContaining([toHex(rid('seen')), toHex(rid('unseen')), toHex(rid('later'))]));
		expect(visits).toHaveLength(3);
		expect([...visits].sort((a, b) => b.time - a.time || a.block.localeCompare(b.block))).toEqual(visits);
		expect((await encountersOfPatient(founder, toHex(OTHER))).map((v) => v.rid)).toEqual([toHex(rid('second'))]);
		// Not a patient key (as typed so far into a form): no visits, nothing read.
		for (const text of ['', toHex(PATIENT).slice(0, 63), toHex(PATIENT).toUpperCase(), `${toHex(PATIENT)} `, 'all'])
			expect(await encountersOfPatient(founder, text)).toEqual([]);
	});
});
