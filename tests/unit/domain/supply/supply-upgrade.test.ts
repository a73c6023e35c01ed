/**
 * A checkpoint written before the supply state had pages (the whole state as one JSON
 * string, `SupplyView`'s shape) decodes into the same state with its pages in memory, and a
 * ledger whose checkpoints are all of that form opens without refolding and folds on to the
 * state of a node that folded every block with pages (domain/supply/pages.ts `decodeSupply`).
 */
import { describe, expect, it } from 'vitest';
import { encodeCanonical, Ledger, toHex, type CborValue } from '$lib/core/index.js';
import { pageLog, pageRows } from '$lib/core/ledger/fold-pages.js';
import { joinNetwork, testSigner } from '$lib/core/testing/fixtures.js';
import { APP_FOLDS, APP_INDEXES } from '$lib/domain/fold-registry.js';
import { APP_RULES } from '$lib/domain/rule-registry.js';
import { readSupply, supplyFold, supplyView, type SupplyState } from '$lib/domain/supply/fold.js';
import { causalOrder } from '../../support/arrival-orders.js';
import { KeptStore } from '../../support/kept-store.js';
import { checkpointStates } from '../../support/checkpoint-states.js';
import { prng } from '$lib/core/testing/prng.js';
import { supplyNetwork } from '../../../supply-pages-scenario.js';

const bytesOf = (value: unknown) => toHex(encodeCanonical(value as CborValue));
const utf8 = new TextEncoder();
const options = { rules: APP_RULES, folds: APP_FOLDS, indexes: APP_INDEXES };

describe('supply checkpoints written before pages', () => {
	it('decode to the same state, every page in memory and to be stored, in the pages the fold would have made', async () => {
		const { writer } = await supplyNetwork();
		const whole = await readSupply(writer);
		const made = writer.state().supply as SupplyState;
		// The whole form, with an older `serials` map beside it.
		const decoded = supplyFold.decode({ json: utf8.encode(JSON.stringify({ ...whole, serials: { [`x|y`]: 'z' } })) });
		expect(bytesOf(supplyView(decoded))).toBe(bytesOf(whole));
		expect(decoded.pages.keys().sort()).toEqual(made.pages.keys().sort());
		expect(decoded.pages.counts).toMatchObject({ decoded: 0, stored: 0, packed: made.pages.keys().length });
		expect(Object.keys(decoded).sort()).toEqual(Object.keys(made).sort());
	});

	it('a ledger with only such checkpoints opens to the same state and folds on, in any order, to the writer’s', async () => {
		const { writer, wire, net } = await supplyNetwork();
		const reference = bytesOf(await readSupply(writer));
		const random = prng(5);
		for (let trial = 0; trial < 4; trial++) {
			const order = causalOrder(wire, random);
			const half = Math.floor(order.length / 2) + trial;
			const store = new KeptStore();
			const node = await joinNetwork(net, `old-${trial}`, { ...options, store, checkpointEvery: 1 });
			for (const bytes of order.slice(0, half)) await node.receive([bytes]);
			const whole = await readSupply(node);
			const before = bytesOf(whole);
			await node.close();
			// The newest checkpoint's supply state back to the whole form (what the node read before closing); no
			// other checkpoint and no page row left, as in a ledger written before pages.
			const positions = await store.checkpointPositions();
			const newest = positions[positions.length - 1]!;
			await store.dropCheckpoints(positions.slice(0, -1));
			const supplyState = await checkpointStates((await store.checkpointAtOrBefore(newest))!, 'supply');
			await supplyState.store(store, encodeCanonical({ json: utf8.encode(JSON.stringify(whole)) }));
			for (const name of [pageRows('supply'), pageLog('supply')])
				if ((await store.factKeys(name, null, 1)).length > 0) await store.clearFacts(name);
			// The supply fold, counting the blocks it applies: none at the open (the checkpoint decodes; nothing is refolded).
			let applied = 0;
			const counting = { ...supplyFold, apply: (...a: Parameters<typeof supplyFold.apply>) => (applied++, supplyFold.apply(...a)) };
			const folds = APP_FOLDS.map((f) => (f === supplyFold ? counting : f));
			const again = await Ledger.open({ ...options, folds, store, signer: testSigner(`old-${trial}`) });
			expect(applied, 'blocks refolded at the open').toBe(0);
			expect(bytesOf(await readSupply(again))).toBe(before);
			for (const bytes of order.slice(half)) await again.receive([bytes]);
			expect(bytesOf(await readSupply(again))).toBe(reference);
			await again.close();
		}
	}, 60_000);
});
