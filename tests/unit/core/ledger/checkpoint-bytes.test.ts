// Checkpoints other than the newest are kept compressed (core/ledger/checkpoint-bytes.ts):
// the bytes come back exactly, a checkpoint as written is never taken for a compressed one,
// a damaged one fails to decompress instead of decoding to another state, and a ledger
// keeps every checkpoint but the newest compressed, rewinds through them to the in-order
// state, and opens past a damaged one from the checkpoint before it.
import { describe, expect, it } from 'vitest';
import { encodeCanonical, type CborValue } from '$lib/core/codec.js';
import { Ledger, MemoryStore, type Fold } from '$lib/core/index.js';
import {
	COMPRESS_FROM_BYTES,
	compressCheckpoint,
	decodeCheckpointStates,
	decompressCheckpoint,
	encodeCheckpointStates,
	isCompressed
} from '$lib/core/ledger/checkpoint-bytes.js';
import { fixedNow, foundNetwork, joinNetwork, testSigner, testVerifier } from '$lib/core/testing/fixtures.js';
import { prng } from '$lib/core/testing/prng.js';
import { shuffled } from '../../support/arrival-orders.js';
import { note } from '../ledger-support.js';
import { paddedOrderedFold } from '../../support/padded-fold.js';
import { sameState } from '../../support/canonical-state.js';
import { KeptStore } from '../../support/kept-store.js';

// Checkpoints of a megabyte and more: vitest's toEqual walks a byte array index by index
// (two thirds of this file's time), so bytes are compared whole and states in place, and
// toEqual only runs, for its message, when they differ.
const expectBytes = (actual: Uint8Array, expected: Uint8Array) => expect(Buffer.compare(actual, expected), 'bytes differ').toBe(0);
const expectState = (actual: unknown, expected: unknown) => {
	if (!sameState(actual, expected)) expect(actual).toEqual(expected);
};

/** A random CBOR value, as fold states encode: maps, arrays, text, integers, byte strings, repeated parts. */
function randomValue(random: () => number, depth = 0): CborValue {
	const pick = Math.floor(random() * (depth > 3 ? 4 : 6));
	const letters = [...'abcdef0123456789 é€𝄞'];
	const text = () => Array.from({ length: Math.floor(random() * 40) }, () => letters[Math.floor(random() * letters.length)]).join('');
	switch (pick) {
		case 0:
			return Math.floor(random() * 2 ** 40) - 2 ** 39;
		case 1:
			return text();
		case 2:
			return Uint8Array.from({ length: Math.floor(random() * (random() < 0.1 ? 70_000 : 300)) }, () =>
				Math.floor(random() * (random() < 0.5 ? 4 : 256))
			);
		case 3:
			return random() < 0.5 ? null : random() < 0.5;
		case 4:
			return Array.from({ length: Math.floor(random() * 8) }, () => randomValue(random, depth + 1));
		default:
			return Object.fromEntries(
				Array.from({ length: Math.floor(random() * 8) }, (_, i) => [`${text()}${i}`, randomValue(random, depth + 1)])
			);
	}
}

const states: Fold<CborValue> = {
	name: 'value',
	version: 1,
	init: () => null,
	apply: (s) => s,
	encode: (s) => s,
	decode: (v) => v
};

describe('checkpoint bytes', () => {
	it('compress and decompress to the same bytes; a checkpoint as written never reads as compressed', async () => {
		const random = prng(7);
		for (let i = 0; i < 120; i++) {
			const value = randomValue(random);
			// A checkpoint as the engine writes it, and the bare value (a stray byte string, which CBOR may start with 0x5a).
			for (const bytes of [encodeCheckpointStates([states as Fold<unknown>], [value]), encodeCanonical(value)]) {
				expect(isCompressed(bytes)).toBe(false);
				expect(await decompressCheckpoint(bytes)).toBe(bytes);
				const packed = await compressCheckpoint(bytes);
				expect(isCompressed(packed)).toBe(true);
				expect(await compressCheckpoint(packed)).toBe(packed);
				expectBytes(await decompressCheckpoint(packed), bytes);
			}
			const back = decodeCheckpointStates(
				[states as Fold<unknown>],
				await decompressCheckpoint(await compressCheckpoint(encodeCheckpointStates([states as Fold<unknown>], [value])))
			);
			expectState(back?.get(0), value);
		}
		expect(isCompressed(new Uint8Array())).toBe(false);
		expect(isCompressed(Uint8Array.of(0x1f))).toBe(false);
	});

	it('a damaged compressed checkpoint fails to decompress: every byte flipped, cut short, or with bytes after it', async () => {
		const random = prng(11);
		const written = encodeCheckpointStates([states as Fold<unknown>], [randomValue(random)]);
		const packed = await compressCheckpoint(written);
		let failed = 0;
		// Every byte after the magic (a flipped magic byte makes it read as written, which then fails to decode as CBOR below).
		for (let at = 2; at < packed.length; at++) {
			const damaged = packed.slice();
			damaged[at]! ^= 1 << Math.floor(random() * 8);
			const result = await decompressCheckpoint(damaged).then(
				(bytes) => bytes,
				() => null
			);
			// A flip in the header's unused fields (mtime, flags' extra bits, OS) may pass; it must then give the same bytes.
			if (result === null) failed++;
			else expectBytes(result, written);
		}
		expect(failed).toBeGreaterThan(packed.length - 20);
		for (const cut of [3, 10, Math.floor(packed.length / 2), packed.length - 1])
			await expect(decompressCheckpoint(packed.slice(0, cut))).rejects.toThrow();
		await expect(decompressCheckpoint(Uint8Array.from([...packed, 1, 2, 3]))).rejects.toThrow();
	});
});

const ordered = paddedOrderedFold;

/** A kept store (open after the ledger closes) that lists its checkpoints. */
class CheckpointStore extends KeptStore {
	async checkpoints() {
		return Promise.all((await this.checkpointPositions()).map(async (p) => (await this.checkpointAtOrBefore(p))!));
	}
}

describe('checkpoint bytes: on a ledger', () => {
	const open = (store: MemoryStore, net: Ledger['net']) =>
		Ledger.open({
			store,
			verifier: testVerifier(),
			now: fixedNow,
			signer: testSigner('x'),
			net,
			folds: [ordered as Fold<unknown>],
			checkpointEvery: 4
		});

	it('keeps every checkpoint but the two newest compressed (from 1 MiB); late blocks rewind through them to the in-order state, and a reopen reaches it', async () => {
		const writers = Array.from({ length: 6 }, (_, i) => `w${i}`);
		const a = await foundNetwork({ members: Object.fromEntries(writers.map((w) => [w, 'clinician'])) });
		for (let i = 0; i < 160; i++) await a.append(note(`a${i}`));
		const fromA: Uint8Array[] = [];
		for await (const x of a.blocksSince({})) fromA.push(x);
		// Each writer's one block sorts at a depth of its own among A's.
		const late: Uint8Array[] = [];
		for (const [i, w] of writers.entries()) {
			const node = await joinNetwork(a.net, w);
			await node.receive(fromA.slice(0, 10 + i * 25));
			late.push((await node.append(note(w))).bytes);
		}
		const reference = await open(new MemoryStore(), a.net);
		await reference.receive([...fromA, ...late]);
		for (let seed = 1; seed <= 4; seed++) {
			const store = new CheckpointStore();
			const x = await open(store, a.net);
			for (let i = 0; i < fromA.length; i += 20) await x.receive(fromA.slice(i, i + 20));
			const kept = await store.checkpoints();
			expect(kept.length).toBeGreaterThan(5);
			// Compressed: every one but the two newest, once it is 1 MiB as written; smaller ones as written.
			const written = await Promise.all(kept.map(async (c) => (await decompressCheckpoint(c.state)).length));
			expect(kept.map((c) => isCompressed(c.state))).toEqual(written.map((n, i) => i < kept.length - 2 && n >= COMPRESS_FROM_BYTES));
			expect(written.filter((n) => n < COMPRESS_FROM_BYTES).length).toBeGreaterThan(0);
			expect(kept.filter((c) => isCompressed(c.state)).length).toBeGreaterThan(2);
			expect(kept.at(-3)!.state.length).toBeLessThan(written.at(-3)! / 10);
			for (const bytes of shuffled(late, prng(seed))) expect((await x.receive([bytes])).accepted).toHaveLength(1);
			expectState(x.state(), reference.state());
			await x.close();
			expect(isCompressed((await store.checkpointAtOrBefore(null))!.state)).toBe(false);
			const again = await open(store, a.net);
			expectState(again.state(), reference.state());
		}
	});

	it('opens past a damaged checkpoint from the one before it, and from the genesis when every one is damaged', async () => {
		for (const damage of ['flip', 'cut', 'garbage'] as const) {
			const store = new CheckpointStore();
			const a = await foundNetwork({ store, folds: [ordered as Fold<unknown>], checkpointEvery: 4 });
			for (let i = 0; i < 60; i++) await a.append(note(`a${i}`));
			const expected = a.state();
			await a.close();
			const damaged = (bytes: Uint8Array) => {
				if (damage === 'cut') return bytes.slice(0, bytes.length >> 1);
				if (damage === 'garbage') return Uint8Array.of(0x1f, 0x8b, 8, 0, 1, 2, 3);
				const out = bytes.slice();
				out[out.length >> 1]! ^= 0x10;
				return out;
			};
			const reopen = () =>
				Ledger.open({ store, verifier: testVerifier(), now: fixedNow, signer: testSigner('founder'), folds: [ordered as Fold<unknown>] });
			const kept = await store.checkpoints();
			// The newest (as written) and the one before it (compressed) damaged: the start goes to the third from last.
			for (const c of kept.slice(-2)) await store.putCheckpoint({ ...c, state: damaged(await compressCheckpoint(c.state)) });
			const again = await reopen();
			expectState(again.state(), expected);
			expect((await store.checkpointPositions()).at(-1)).toEqual(kept.at(-3)!.position);
			await again.close();
			for (const c of await store.checkpoints()) await store.putCheckpoint({ ...c, state: damaged(await compressCheckpoint(c.state)) });
			const fromGenesis = await reopen();
			expectState(fromGenesis.state(), expected);
		}
	});

	it('a checkpoint holding a fold the ledger no longer runs opens the others from it; one missing a fold, or at another version, refolds', async () => {
		let applied = 0;
		const counting = (name: string, version = 1): Fold<number> => ({
			name,
			version,
			init: () => 0,
			apply: (n) => (applied++, n + 1),
			encode: (n) => n,
			decode: (v) => v as number
		});
		const [a, b, c] = [counting('a'), counting('b'), counting('c')];
		// The bytes: every fold found by name and version, wherever it sits in the checkpoint.
		const bytes = encodeCheckpointStates([a, b, c] as Fold<unknown>[], [1, 2, 3]);
		expect(decodeCheckpointStates([c, a] as Fold<unknown>[], bytes)).toEqual(
			new Map([
				[0, 3],
				[1, 1]
			])
		);
		expect(decodeCheckpointStates([a, counting('d')] as Fold<unknown>[], bytes)).toBeNull();
		expect(decodeCheckpointStates([a, counting('c', 2)] as Fold<unknown>[], bytes)).toBeNull();
		expect(
			decodeCheckpointStates([a] as Fold<unknown>[], Uint8Array.from(encodeCanonical({ folds: 'other;a@1', states: [encodeCanonical(1)] })))
		).toBeNull();
		// A ledger: written by three folds, opened by two of them, then by one at a new version.
		const store = new CheckpointStore();
		const first = await foundNetwork({ store, folds: [a, b, c] as Fold<unknown>[], checkpointEvery: 4 });
		for (let i = 0; i < 40; i++) await first.append(note(`n${i}`));
		const expected = first.state();
		await first.close();
		const reopen = (folds: Fold<number>[]) =>
			Ledger.open({ store, verifier: testVerifier(), now: fixedNow, signer: testSigner('founder'), folds: folds as Fold<unknown>[] });
		applied = 0;
		const fewer = await reopen([c, a]);
		expect(fewer.state().a).toBe(expected.a);
		expect(fewer.state().c).toBe(expected.c);
		expect(fewer.state().b).toBeUndefined();
		expect(applied).toBe(0); // from the checkpoint written at close: nothing folded again
		await fewer.close();
		applied = 0;
		const changed = await reopen([a, counting('c', 2)]);
		expect(changed.state().c).toBe(expected.c);
		expect(applied).toBeGreaterThanOrEqual(2 * (expected.a as number)); // every block folded again, by both folds
	});
});
