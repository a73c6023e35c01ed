/**
 * Checkpoints compressed with Chromium's own CompressionStream (core/ledger/checkpoint-bytes.ts):
 * they come back byte for byte, and compressing or decompressing tens of MB leaves the page's
 * other tasks room to run between pieces (zlib runs on the calling thread: in one piece, the
 * 1,000,000-block checkpoint held the page for 0.8-0.9 s).
 */
import { describe, expect, it } from 'vitest';
import { bytesEqual } from '../../src/lib/core/bytes.js';
import { IndexedDBStore, Ledger, createSigner, type Fold } from '../../src/lib/core/index.js';
import { COMPRESS_FROM_BYTES, compressCheckpoint, decompressCheckpoint, isCompressed } from '../../src/lib/core/ledger/checkpoint-bytes.js';
import { foundNetwork, joinNetwork, syncInto, testSecret } from '../../src/lib/core/testing/fixtures.js';
import { prng } from '../../src/lib/core/testing/prng.js';
import { paddedOrderedFold } from '../unit/support/padded-fold.js';
import { checkpointRecords } from './fixtures/checkpoint-records.js';

/** About `mb` MB of claims-like JSON: repeated fields, hex ids, numbers. */
function checkpointLike(mb: number, seed: number): Uint8Array {
	const random = prng(seed);
	const hex = () => Array.from({ length: 64 }, () => '0123456789abcdef'[Math.floor(random() * 16)]).join('');
	const parts: string[] = [];
	let size = 0;
	while (size < mb * 1e6) {
		const part = JSON.stringify([
			hex(),
			Math.floor(random() * 1e6),
			'G0008',
			[Math.floor(random() * 99), 'CO', 45, 1250],
			hex().slice(0, 16)
		]);
		parts.push(part);
		size += part.length;
	}
	return new TextEncoder().encode(`[${parts.join(',')}]`);
}

/** Runs `work` while counting timer tasks that got to run meanwhile (each queued by the one before). */
async function withTicks<T>(work: () => Promise<T>): Promise<{ result: T; ticks: number }> {
	let ticks = 0;
	let running = true;
	const tick = () => {
		ticks++;
		if (running) setTimeout(tick, 0);
	};
	setTimeout(tick, 0);
	try {
		return { result: await work(), ticks };
	} finally {
		running = false;
	}
}

describe('checkpoint bytes in Chromium', () => {
	it('compress and decompress to the same bytes, letting other tasks run between pieces', async () => {
		for (const [mb, seed] of [
			[0.001, 1],
			[3, 2],
			[12, 3]
		] as const) {
			const bytes = checkpointLike(mb, seed);
			const packed = await withTicks(() => compressCheckpoint(bytes));
			expect(isCompressed(packed.result)).toBe(true);
			expect(packed.result.length).toBeLessThan(bytes.length);
			const back = await withTicks(() => decompressCheckpoint(packed.result));
			expect(bytesEqual(back.result, bytes)).toBe(true);
			// 12 MB: 12 pieces to compress and about 40 to decompress, each a task of its own that a timer can run between.
			if (mb >= 12) {
				expect(packed.ticks).toBeGreaterThan(3);
				expect(back.ticks).toBeGreaterThan(3);
			}
		}
	});

	it('fails on a damaged compressed checkpoint', async () => {
		const packed = await compressCheckpoint(checkpointLike(2, 4));
		const flipped = packed.slice();
		flipped[packed.length >> 1]! ^= 0x40;
		await expect(decompressCheckpoint(flipped)).rejects.toThrow();
		await expect(decompressCheckpoint(packed.slice(0, packed.length - 3))).rejects.toThrow();
	});

	it('a ledger on IndexedDB keeps its large checkpoints but the two newest compressed, and a late block rewinds through them', async () => {
		const folds = [paddedOrderedFold as Fold<unknown>];
		const a = await foundNetwork({ members: { b: 'clinician' }, folds });
		for (let i = 0; i < 60; i++) await a.append([{ t: 'note', text: `entry ${i}` }]);
		const b = await joinNetwork(a.net, 'b', { folds });
		await syncInto(b, a);
		const late = await b.append([{ t: 'note', text: 'written offline' }]);
		for (let i = 60; i < 100; i++) await a.append([{ t: 'note', text: `entry ${i}` }]);
		const name = `checkpoint-bytes-${Date.now()}`;
		const open = async () =>
			Ledger.open({
				store: await IndexedDBStore.open(name),
				signer: await createSigner(testSecret('x')),
				net: a.net,
				folds,
				checkpointEvery: 5
			});
		const x = await open();
		const chain: Uint8Array[] = [];
		for await (const bytes of a.blocksSince({})) chain.push(bytes);
		for (let i = 0; i < chain.length; i += 10) expect((await x.receive(chain.slice(i, i + 10))).rejected).toEqual([]);
		// IndexedDB's own records, in order.
		const records = await checkpointRecords(name);
		const written = await Promise.all(records.map(async (c) => (await decompressCheckpoint(c.state)).length));
		expect(records.map((c) => isCompressed(c.state))).toEqual(written.map((n, i) => i < records.length - 2 && n >= COMPRESS_FROM_BYTES));
		expect(records.filter((c) => isCompressed(c.state)).length).toBeGreaterThan(1);
		// The late block sorts after block 60, before the newest checkpoints: the rewind starts from a compressed one.
		expect((await x.receive([late.bytes])).accepted).toHaveLength(1);
		await syncInto(a, b);
		expect(x.state()).toEqual(a.state());
		await x.close();
		const again = await open();
		expect(again.state()).toEqual(a.state());
		await again.close();
	});
});
