/**
 * Checkpoints compressed with Chromium's own CompressionStream (core/ledger/checkpoint-bytes.ts):
 * they come back byte for byte, and compressing or decompressing tens of MB leaves the page's
 * other tasks room to run between pieces (zlib runs on the calling thread: in one piece, the
 * 1,000,000-block checkpoint held the page for 0.8-0.9 s).
 */
import { describe, expect, it } from 'vitest';
import { bytesEqual } from '../../src/lib/core/bytes.js';
import { compressCheckpoint, decompressCheckpoint, isCompressed } from '../../src/lib/core/ledger/checkpoint-bytes.js';
import { prng } from '../../src/lib/core/testing/prng.js';

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
});
