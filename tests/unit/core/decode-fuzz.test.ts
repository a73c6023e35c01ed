// The block decoder and the checks before the signature against hostile input: the worst
// inputs per byte up to the size limit, then a seeded fuzzer of mutated valid blocks.
// Whatever the input, the answer is a verdict with a reason code (never another
// exception), an accepted block is byte for byte one that its author signed, and each
// input costs bounded time and memory.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeBlock, hashBody, MAX_BLOCK_BYTES, MAX_BODY_ITEMS, readBlock, openBlock } from '../../../src/lib/core/block.js';
import { bytesEqual, fromHex, toHex } from '../../../src/lib/core/bytes.js';
import { decodeCanonical, encodeCanonical } from '../../../src/lib/core/codec.js';
import { createNodeVerifier } from '../../../src/lib/core/crypto/node-verifier.js';
import { verifyNoble } from '../../../src/lib/core/crypto/ed25519.js';
import { createSigner, type Signer, type Verifier } from '../../../src/lib/core/crypto/verifier.js';
import { LedgerError, REASON_CODES } from '../../../src/lib/core/errors.js';
import { cborHead, hostileBlocks } from '../../../src/lib/core/testing/hostile-blocks.js';
import { makeBlock, testSecret } from '../../../src/lib/core/testing/fixtures.js';
import { prng } from '../../../src/lib/core/testing/prng.js';
import type { BlockId } from '../../../src/lib/core/types.js';
import { checkIntrinsic } from '../../../src/lib/core/validate.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
/** Heap in use, ArrayBuffers included (byte strings live outside the JS heap). */
const heapBytes = () => {
	const m = process.memoryUsage();
	return m.heapUsed + m.arrayBuffers;
};
const MB = 1024 * 1024;
/** Heap in use once garbage is collected: twice, a task apart, so that byte strings whose memory is freed after a collection are gone too. */
async function settledHeapBytes(): Promise<number> {
	gc();
	await new Promise((resolve) => setImmediate(resolve));
	gc();
	return heapBytes();
}
const NET = 'ab'.repeat(32) as BlockId;
// Native Ed25519 (WebCrypto in Node) signs and verifies in tens of microseconds: the
// fuzzer signs thousands of mutated bodies.
let founder: Signer;
let other: Signer;
let verifier: Verifier;
beforeAll(async () => {
	verifier = await createNodeVerifier();
	founder = await createSigner(testSecret('founder'));
	other = await createSigner(testSecret('other'));
});

/**
 * Checks one input (and decodes it alone too, unless `decode` is false); fails the test
 * on anything but a LedgerError from the decoder, and returns the verdict with the time
 * and heap it took.
 */
async function judge(bytes: Uint8Array, decode = true) {
	const heapBefore = heapBytes();
	const cpuBefore = process.cpuUsage();
	const started = performance.now();
	try {
		if (decode) decodeBlock(bytes);
	} catch (error) {
		if (!(error instanceof LedgerError))
			throw new Error(`decodeBlock threw ${String(error)} on ${toHex(bytes.subarray(0, 24))}…`, { cause: error });
	}
	const verdict = await checkIntrinsic(bytes, NET, verifier);
	const ms = performance.now() - started;
	const cpu = process.cpuUsage(cpuBefore);
	const heapMb = (heapBytes() - heapBefore) / MB;
	if (!verdict.ok) expect(REASON_CODES).toContain(verdict.code);
	// CPU time of this process (garbage collector included) as well as wall time: on a busy
	// machine the wall clock also counts waiting for a core.
	return { verdict, ms, cpuMs: (cpu.user + cpu.system) / 1000, heapMb };
}

describe('the worst inputs per byte, up to the block limit', () => {
	// Generous against the goal of 100 ms and 20 MB (bench/decode.js measures it): the CI
	// machine may have both cores busy. Before the fix: 2.9 s and 383 MB for empty maps.
	const MAX_CPU_MS = 1_500;
	const MAX_WALL_MS = 10_000;
	const MAX_HEAP_MB = 64;

	it('each is refused, with its expected code, in bounded time and heap, before and after the signature', async () => {
		const inputs = await hostileBlocks(founder);
		const worst = { cpuMs: 0, ms: 0, heapMb: 0, name: '' };
		for (const input of inputs) {
			expect(input.bytes.length).toBeLessThanOrEqual(MAX_BLOCK_BYTES);
			gc();
			// The decoder alone reads the three variants of a payload alike: once is enough.
			const { verdict, ms, cpuMs, heapMb } = await judge(input.bytes, input.variant === 'signed' || input.variant === 'not a block');
			expect(verdict.ok, input.name).toBe(false);
			if (!verdict.ok) expect(input.codes, `${input.name}: ${verdict.code} ${verdict.detail}`).toContain(verdict.code);
			expect(cpuMs, input.name).toBeLessThan(MAX_CPU_MS);
			expect(ms, input.name).toBeLessThan(MAX_WALL_MS);
			expect(heapMb, input.name).toBeLessThan(MAX_HEAP_MB);
			if (cpuMs > worst.cpuMs) Object.assign(worst, { cpuMs, ms, name: input.name });
			worst.heapMb = Math.max(worst.heapMb, heapMb);
		}
		console.log(
			`worst hostile input: ${worst.cpuMs.toFixed(1)} ms CPU, ${worst.ms.toFixed(1)} ms wall (${worst.name}), max heap growth ${worst.heapMb.toFixed(1)} MB, ${inputs.length} inputs`
		);
	}, 60_000);

	it('a valid block of the full size (one long text) is accepted in bounded time', async () => {
		const text = 'x'.repeat(MAX_BLOCK_BYTES - 400);
		const { bytes } = await makeBlock(founder, { net: NET, txs: [{ t: 'note', text }] });
		gc();
		const { verdict, ms, cpuMs, heapMb } = await judge(bytes);
		expect(verdict.ok).toBe(true);
		if (verdict.ok) expect((verdict.block.txs[0]!.text as string).length).toBe(text.length);
		expect(cpuMs).toBeLessThan(MAX_CPU_MS);
		expect(ms).toBeLessThan(MAX_WALL_MS);
		expect(heapMb).toBeLessThan(MAX_HEAP_MB);
	}, 30_000);

	it('a body over the item budget is refused before any value is built; one at the budget opens', () => {
		// {txs: [0, 0, …], author}: the map, two keys, two values, then one item per zero.
		const wire = (zeros: number) => {
			const body = encodeCanonical({ txs: new Array(zeros).fill(0), author: founder.publicKey });
			return encodeCanonical([hashBody(body), body, new Uint8Array(64)]);
		};
		expect(() => openBlock(wire(MAX_BODY_ITEMS - 5))).not.toThrow();
		expect(() => openBlock(wire(MAX_BODY_ITEMS - 4))).toThrow(
			expect.objectContaining({ code: 'MALFORMED', detail: expect.stringMatching(/more than 262144 items/) })
		);
	});
});

/** A few valid blocks of different shapes to mutate. */
async function seeds(): Promise<Uint8Array[]> {
	const genesis = await makeBlock(founder, { net: NET, txs: [{ t: 'note', text: 'genesis-like' }] });
	const deps = [toHex(hashBody(new Uint8Array([1]))), toHex(hashBody(new Uint8Array([2])))].sort() as BlockId[];
	const blocks = [
		genesis,
		await makeBlock(other, {
			net: NET,
			seq: 1,
			prev: genesis.id,
			deps,
			clock: 7,
			txs: [{ t: 'member.add', key: founder.publicKey, role: 'clinician', name: 'Dr \u00e9\u6c34 \u{1f600}' }]
		}),
		await makeBlock(founder, {
			net: NET,
			txs: Array.from({ length: 12 }, (_, i) => ({ t: 'note', text: `n${i}`, n: -i * 1000, ok: i % 2 === 0, none: null }))
		}),
		await makeBlock(founder, {
			net: NET,
			txs: [{ t: 'record.put', data: new Uint8Array(300).fill(9), nested: { a: [1, [2, [3, { b: 'c' }]]], z: new Uint8Array(0) } }]
		})
	];
	return blocks.map((b) => b.bytes);
}

type Mutator = (bytes: Uint8Array, random: () => number) => Uint8Array;
const at = (n: number, random: () => number) => Math.floor(random() * n);
const HEAD_BYTES = [
	0x18, 0x19, 0x1a, 0x1b, 0x1f, 0x38, 0x58, 0x59, 0x5a, 0x5b, 0x5f, 0x78, 0x7a, 0x7b, 0x98, 0x9a, 0x9b, 0x9f, 0xb8, 0xba, 0xbb, 0xbf, 0xc0,
	0xd8, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xff
];

/** `b` with `removed` bytes at `start` replaced by `inserted`. */
function splice(b: Uint8Array, start: number, removed: number, inserted: Uint8Array = new Uint8Array(0)): Uint8Array {
	const end = Math.min(b.length, start + removed);
	const out = new Uint8Array(b.length - (end - start) + inserted.length);
	out.set(b.subarray(0, start));
	out.set(inserted, start);
	out.set(b.subarray(end), start + inserted.length);
	return out;
}

/** Mutations of a wire block, each likely to reach a different check. */
const MUTATORS: Record<string, Mutator> = {
	'bit flip': (b, r) => {
		const out = b.slice();
		for (let k = 1 + at(3, r); k > 0; k--) out[at(out.length, r)]! ^= 1 << at(8, r);
		return out;
	},
	'random byte': (b, r) => splice(b, at(b.length, r), 1, Uint8Array.of(at(256, r))),
	'head byte': (b, r) => splice(b, at(b.length, r), 1, Uint8Array.of(HEAD_BYTES[at(HEAD_BYTES.length, r)]!)),
	truncation: (b, r) => b.slice(0, at(b.length, r)),
	'trailing bytes': (b, r) =>
		splice(
			b,
			b.length,
			0,
			Uint8Array.from({ length: 1 + at(4, r) }, () => at(256, r))
		),
	deletion: (b, r) => splice(b, at(b.length, r), 1 + at(8, r)),
	'huge declared length': (b, r) => {
		const head = cborHead(2 + at(4, r), [2 ** 32 - 1, Number.MAX_SAFE_INTEGER, 0xffff, MAX_BLOCK_BYTES][at(4, r)]!);
		return splice(b, at(b.length, r), head.length, head);
	},
	'run of tiny items': (b, r) => {
		// Mostly short runs; one in a hundred fills the block to the size limit (the hostile
		// inputs above cover that case in full).
		const length = r() < 0.01 ? Math.max(1, MAX_BLOCK_BYTES - b.length) : 1 + at(2_000, r);
		return splice(b, at(b.length, r), 0, new Uint8Array(length).fill([0xa0, 0x40, 0x80, 0x60, 0x00, 0xf6][at(6, r)]!));
	},
	'deep nesting': (b, r) => splice(b, at(b.length, r), 0, new Uint8Array(20 + at(40, r)).fill(r() < 0.5 ? 0x81 : 0xa1))
};

/**
 * The body of a wire block mutated and signed again by `signer`, so the mutation reaches
 * the checks after the signature. Null when the input is not a block with a byte-string
 * body.
 */
async function resigned(bytes: Uint8Array, mutate: Mutator, random: () => number): Promise<Uint8Array | null> {
	const outer = decodeCanonical(bytes) as [Uint8Array, Uint8Array, Uint8Array];
	const body = mutate(outer[1], random);
	const id = hashBody(body);
	return encodeCanonical([id, body, await founder.sign(id)]);
}

describe('fuzzer over blocks', () => {
	it('10,000+ mutated blocks: only LedgerErrors, nothing accepted that its author did not sign exactly, bounded time and heap', async () => {
		const originals = await seeds();
		// Fingerprints (sha256) of every input that was signed for real.
		const print = (bytes: Uint8Array) => toHex(hashBody(bytes));
		const signedByUs = new Set(originals.map(print));
		const random = prng(20_260_517);
		const names = Object.keys(MUTATORS);
		const codes = new Map<string, number>();
		let accepted = 0;
		let inputs = 0;
		let worst = { cpuMs: 0, ms: 0, name: '' };
		// Heap growth is taken over the second half of the rounds: the first half compiles the
		// code and fills the caches the inputs reach, which is not growth with the inputs; a leak
		// is (27 MB when decodeBlock keeps its inputs). The file runs in a process of its own
		// (vite.config.ts ISOLATED): in a shared worker, other files' leftovers settling made 6 MB.
		let heapStart = 0;
		for (let round = 0; round < 2_600; round++) {
			if (round === 1_300) heapStart = await settledHeapBytes();
			const seed = originals[round % originals.length]!;
			const name = names[at(names.length, random)]!;
			const mutants = [MUTATORS[name]!(seed, random), MUTATORS[names[at(names.length, random)]!]!(MUTATORS[name]!(seed, random), random)];
			const again = await resigned(seed, MUTATORS[name]!, random);
			if (again) {
				mutants.push(again);
				// The body is founder's only when the mutation left the author in place.
				signedByUs.add(print(again));
			}
			mutants.push(Uint8Array.from(seed.subarray(0, 1 + at(seed.length, random))));
			for (const bytes of mutants) {
				inputs++;
				const { verdict, ms, cpuMs } = await judge(bytes);
				if (cpuMs > worst.cpuMs) worst = { cpuMs, ms, name };
				if (verdict.ok) {
					accepted++;
					// Accepted: exactly bytes that were signed, canonical, hash and signature
					// right by the reference implementation.
					expect(signedByUs.has(print(bytes)), `accepted an unsigned mutation (${name})`).toBe(true);
					const block = verdict.block;
					expect(toHex(hashBody(block.body))).toBe(block.id);
					expect(verifyNoble(block.signature, fromHex(block.id), fromHex(block.author))).toBe(true);
					expect(bytesEqual(encodeCanonical([fromHex(block.id), block.body, block.signature]), bytes)).toBe(true);
					expect(readBlock(openBlock(bytes))).toEqual(block);
				} else {
					codes.set(verdict.code, (codes.get(verdict.code) ?? 0) + 1);
				}
			}
		}
		const heapGrowthMb = ((await settledHeapBytes()) - heapStart) / MB;
		console.log(
			`fuzzer: ${inputs} inputs, ${accepted} accepted (re-signed), refusals ${JSON.stringify(Object.fromEntries(codes))}, slowest ${worst.cpuMs.toFixed(1)} ms CPU, ${worst.ms.toFixed(1)} ms wall (${worst.name}), heap growth over the second half ${heapGrowthMb.toFixed(1)} MB`
		);
		expect(inputs).toBeGreaterThanOrEqual(10_000);
		expect(worst.cpuMs).toBeLessThan(1_500);
		expect(heapGrowthMb).toBeLessThan(4);
		// Every check was reached.
		for (const code of ['NON_CANONICAL', 'MALFORMED', 'BAD_HASH', 'BAD_SIGNATURE']) expect(codes.get(code) ?? 0, code).toBeGreaterThan(0);
	}, 120_000);
});
