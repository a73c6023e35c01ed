// createBlock checks the block it makes without decoding its wire bytes whole (draftBlock:
// encode, hash, decode the body once, seal). What it returns, or refuses, must be exactly
// what a node receiving the bytes decodes: compared here with the full decode of the same
// block made the plain way, on random inputs valid and not, and at the size and item limits.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
	LedgerError,
	MAX_BLOCK_BYTES,
	createBlock,
	decodeBlock,
	encodeCanonical,
	hashBody,
	type Block,
	type BlockId,
	type BlockInput,
	type CborValue,
	type Tx
} from '../../../src/lib/core/index.js';
import { fromHex, toHex } from '../../../src/lib/core/bytes.js';
import { testSigner } from '../../../src/lib/core/testing/fixtures.js';

const signer = testSigner('draft');

/** The block made the plain way: body, hash, signature, wire bytes, then the receiver's full decode. */
async function reference(input: BlockInput) {
	const body: Record<string, CborValue> = {
		v: 1,
		author: signer.publicKey,
		seq: input.seq,
		deps: input.deps.map((d) => fromHex(d)),
		clock: input.clock,
		time: input.time,
		txs: [...input.txs]
	};
	if (input.net !== null) body.net = fromHex(input.net);
	if (input.prev !== null) body.prev = fromHex(input.prev);
	const encoded = encodeCanonical(body);
	const id = hashBody(encoded);
	return decodeBlock(encodeCanonical([id, encoded, await signer.sign(id)]));
}

async function outcome<T>(make: () => Promise<T>): Promise<{ ok: T } | { code: string }> {
	try {
		return { ok: await make() };
	} catch (error) {
		if (error instanceof LedgerError) return { code: error.code };
		throw error;
	}
}

/** A block with its large fields as digests: deep equality over megabytes element by element takes seconds. */
function digest(block: Block) {
	const h = (b: Uint8Array) => toHex(hashBody(b));
	return { ...block, bytes: h(block.bytes), body: h(block.body), signature: h(block.signature), txs: h(encodeCanonical([...block.txs])) };
}

async function same(input: BlockInput, full = true) {
	const ours = await outcome(async () => (await createBlock(signer, input)).block);
	const theirs = await outcome(() => reference(input));
	if ('ok' in ours && 'ok' in theirs) {
		expect(digest(ours.ok)).toEqual(digest(theirs.ok));
		if (full) expect(ours.ok).toEqual(theirs.ok);
	} else expect(ours).toEqual(theirs);
	return ours;
}

const hash = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => toHex(b) as BlockId);
const value: fc.Arbitrary<CborValue> = fc.letrec<{ v: CborValue }>((tie) => ({
	v: fc.oneof(
		{ depthSize: 'small' },
		fc.integer({ min: -1000, max: 2 ** 40 }),
		fc.double(),
		fc.string(),
		fc.boolean(),
		fc.constant(null),
		fc.uint8Array({ maxLength: 40 }),
		fc.array(tie('v'), { maxLength: 4 }),
		fc.dictionary(fc.string({ maxLength: 6 }), tie('v'), { maxKeys: 4 })
	)
})).v;
const plainTx: fc.Arbitrary<Tx> = fc.record({ t: fc.constant('note'), text: fc.string(), n: fc.nat(), b: fc.uint8Array({ maxLength: 8 }) });
const tx = fc
	.record({ t: fc.oneof(fc.constantFrom('note', 'record.put', 'a.b-c'), fc.string({ maxLength: 8 })) })
	.chain((head) => fc.dictionary(fc.string({ maxLength: 6 }), value, { maxKeys: 3 }).map((rest) => ({ ...rest, ...head }) as Tx));
// Mostly well formed (prev iff seq > 0, sorted deps, a network, known value types), so that
// both outcomes are common; every field is sometimes wrong.
const input: fc.Arbitrary<BlockInput> = fc
	.record({
		net: fc.option(hash, { nil: null, freq: 8 }),
		seq: fc.nat({ max: 5 }),
		prevWrong: fc.nat({ max: 4 }).map((n) => n === 0),
		prev: hash,
		deps: fc.uniqueArray(hash, { maxLength: 4 }),
		depsOrder: fc.constantFrom('sorted', 'sorted', 'sorted', 'sorted', 'as drawn'),
		clock: fc.nat({ max: 9 }),
		time: fc.oneof(fc.nat(), fc.integer({ min: -5, max: -1 }), fc.nat()),
		txs: fc.array(fc.oneof({ weight: 4, arbitrary: plainTx }, { weight: 1, arbitrary: tx }), { maxLength: 4 })
	})
	.map(({ prevWrong, prev, depsOrder, deps, ...rest }) => ({
		...rest,
		prev: rest.seq > 0 !== prevWrong ? prev : null,
		deps: depsOrder === 'sorted' ? [...deps].sort() : deps
	}));

describe('createBlock makes what a receiver decodes', () => {
	it('on random inputs, valid and not: the same block, or the same refusal', async () => {
		let made = 0;
		await fc.assert(
			fc.asyncProperty(input, async (i) => {
				if ('ok' in (await same(i))) made++;
			}),
			{ numRuns: 400, seed: 20261204 }
		);
		// The generator must reach valid blocks too, not only refusals.
		expect(made).toBeGreaterThan(20);
	});

	it('at the limits: the largest block and the most items are made, one byte or item more is refused alike', async () => {
		const base = { net: 'ab'.repeat(32) as BlockId, seq: 0, prev: null, deps: [], clock: 1, time: 1 } as const;
		const sized = (n: number): BlockInput => ({ ...base, txs: [{ t: 'note', data: new Uint8Array(n) }] });
		const made = async (i: BlockInput) => 'ok' in (await outcome(() => createBlock(signer, i)));
		// The wire block is the body plus 110 bytes once the payload needs a 4-byte length.
		const body0 = (await createBlock(signer, sized(0))).block.body.length;
		let n = MAX_BLOCK_BYTES - body0 - 110 - 3;
		for (let step = 0; step < 10 && (await made(sized(n + 1))); step++) n++;
		expect(n).toBeGreaterThan(MAX_BLOCK_BYTES - body0 - 110 - 3);
		expect(await same(sized(n), false)).toHaveProperty('ok');
		expect(await same(sized(n + 1), false)).toEqual({ code: 'TOO_LARGE' });
		// Items: each 0 in the list is one; the body's fields and the tx map are a few more.
		const items = (count: number): BlockInput => ({ ...base, txs: [{ t: 'note', list: new Array(count).fill(0) }] });
		let k = 262_144 - 25;
		for (let step = 0; step < 10 && (await made(items(k + 1))); step++) k++;
		expect(k).toBeGreaterThan(262_144 - 25);
		expect(await same(items(k), false)).toHaveProperty('ok');
		expect(await same(items(k + 1), false)).toEqual({ code: 'MALFORMED' });
	});
});
