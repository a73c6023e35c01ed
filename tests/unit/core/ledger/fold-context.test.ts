// What a fold may read while applying a block (core/fold.ts FoldContext): the rows of the
// keys its `reads` gave for that very block, up to the block's place in the order, the same
// whatever order and batches the blocks came in; a `keys` that throws or names keys no store
// keeps reads nothing and stops nothing.
import { describe, expect, it } from 'vitest';
import type { Block, Fold, FoldReads } from '../../../../src/lib/core/index.js';
import { foundNetwork, joinNetwork } from '../../../../src/lib/core/testing/fixtures.js';
import { foldBlocks } from '../../../../src/lib/core/testing/fold-contexts.js';
import { prng } from '../../../../src/lib/core/testing/prng.js';
import { decodeBlock, compareOrder, orderKey } from '../../../../src/lib/core/index.js';
import { txIndex } from '../../support/test-index.js';
import { shuffled } from '../../support/arrival-orders.js';

/** Each note's text says what its block declares: `throw`, `bad` (keys no store keeps), `none`, or the key `type:note`. */
const reads: FoldReads = {
	index: txIndex,
	keys(block) {
		const text = block.txs[0]?.text;
		if (text === 'throw') throw new Error('a hostile block');
		if (text === 'bad') return ['', 'a\u0000b', 'k'.repeat(300)];
		return text === 'none' ? [] : ['type:note'];
	}
};

/** Per block, in ledger order: its text, how many `type:note` rows it saw, and whether any undeclared key answered. */
const seeing: Fold<[string, number, number][]> = {
	name: 'seeing',
	version: 1,
	reads: [reads],
	init: () => [],
	apply(state, block, context) {
		const text = String(block.txs[0]?.text ?? block.txs[0]?.t);
		const undeclared = context!.facts(txIndex.name, 'type:genesis').length + context!.facts(txIndex.name, '').length;
		state.push([text, context!.facts(txIndex.name, 'type:note').length, undeclared]);
		return state;
	},
	encode: (state) => JSON.stringify(state),
	decode: (value) => JSON.parse(value as string) as [string, number, number][]
};

describe('fold contexts', () => {
	it('answer only the keys a block declared, up to its place, whatever the arrival order and batching; hostile keys read nothing', async () => {
		const options = { folds: [seeing], checkpointEvery: 3 };
		const a = await foundNetwork(options);
		const texts = ['one', 'throw', 'two', 'bad', 'none', 'three', 'four', 'throw', 'five'];
		for (const text of texts) await a.append([{ t: 'note', text }]);
		const reference = a.state().seeing as [string, number, number][];
		// Declared: the note rows up to and including the block (its own row counts); nothing else answers.
		let notes = 0;
		const expected: [string, number, number][] = [['genesis', 0, 0]];
		for (const text of texts) {
			notes++;
			expected.push([text, ['throw', 'bad', 'none'].includes(text) ? 0 : notes, 0]);
		}
		expect(reference).toEqual(expected);

		const wire: Uint8Array[] = [];
		for await (const bytes of a.blocksSince({})) wire.push(bytes);
		// By hand, from the blocks alone.
		const ordered = wire.map((b) => decodeBlock(b)).sort((x: Block, y: Block) => compareOrder(orderKey(x), orderKey(y)));
		expect(foldBlocks(seeing, ordered)).toEqual(reference);
		const random = prng(7);
		for (let trial = 0; trial < 40; trial++) {
			const node = await joinNetwork(a.net, `observer${trial}`, options);
			const order = shuffled(wire, random);
			const size = 1 + (trial % 5);
			for (let i = 0; i < order.length; i += size) await node.receive(order.slice(i, i + size));
			expect(node.size).toBe(wire.length);
			expect(node.state().seeing).toEqual(reference);
		}
	});
});
