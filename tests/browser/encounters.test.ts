/**
 * Folds reading index rows, on real IndexedDB in Chromium: nodes receiving the scenario's
 * blocks in random orders flag the same encounters as the network that wrote them, and so
 * does one reopened from its store with its checkpoints dropped (every block refolded, the
 * rows read from IndexedDB). Late blocks re-apply their patients' claim pages from the
 * store's rows and blocks instead of rewinding the claims fold.
 */
import { describe, expect, it } from 'vitest';
import { IndexedDBStore, Ledger, type BlockId } from '../../src/lib/core/index.js';
import { joinNetwork, testSigner } from '../../src/lib/core/testing/fixtures.js';
import { prng } from '../../src/lib/core/testing/prng.js';
import { ledgerEncounterFlags, receiveShuffled, scenario } from '../encounter-scenario.js';
import { canonicalState } from '../unit/support/canonical-state.js';

const run = `${Date.now()}`;

describe('encounter records read from the records index in IndexedDB', () => {
	it('nodes on IndexedDB flag the same encounters whatever order the blocks arrive in, and after a reopen', async () => {
		const { founder, options } = await scenario();
		const reference = await ledgerEncounterFlags(founder);
		expect(reference.claims.map((f) => f.kind)).toContain('encounter-other-clinic');
		expect(reference.supply.map(([, f]) => f.kind)).toContain('encounter-patient-mismatch');
		const wire: Uint8Array[] = [];
		for await (const bytes of founder.blocksSince({})) wire.push(bytes);
		const random = prng(20261205);
		let reapplied = 0;
		for (let trial = 0; trial < 8; trial++) {
			const name = `encounters-${run}-${trial}`;
			const node = await joinNetwork(founder.net, 'observer', { ...options, store: await IndexedDBStore.open(name), checkpointEvery: 5 });
			await receiveShuffled(node, wire, random);
			expect(node.size).toBe(wire.length);
			expect(await ledgerEncounterFlags(node)).toEqual(reference);
			// Late claims re-applied their patients' pages from IndexedDB (claims-fold.ts `keyed`) to the founder's state.
			expect(canonicalState(node.state().claims)).toBe(canonicalState(founder.state().claims));
			reapplied += node.reapplied.keys;
			await node.close();
			// Without its checkpoints, the reopened node refolds every block, reading the rows from IndexedDB.
			const store = await IndexedDBStore.open(name);
			await store.dropCheckpointsAfter([-1, '' as BlockId]);
			expect(await store.checkpointAtOrBefore(null)).toBeUndefined();
			const again = await Ledger.open({ ...options, store, signer: testSigner('observer'), net: founder.net as BlockId });
			expect(await ledgerEncounterFlags(again)).toEqual(reference);
			await again.close();
		}
		expect(reapplied).toBeGreaterThan(0);
	}, 120_000);
});
