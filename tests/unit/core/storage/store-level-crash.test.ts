/**
 * The headless peer's LevelDB store under crashes: a process killed in the middle of its
 * appends loses nothing it acknowledged and keeps no batch in part; a write-ahead log the
 * crash cut short at any byte reopens to the store before the last batch or after it.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LevelStore } from '../../../../src/lib/core/storage/level.js';

const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'ledger-level-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const CHILD = new URL('./store-level-child.js', import.meta.url).pathname;

/** Starts the child on `path`; `onMessage` sees each message and returns true to kill it there (SIGKILL, at once). */
function runChild(mode: string, path: string, onMessage: (m: Record<string, number>) => boolean): Promise<ChildProcess> {
	const child = fork(CHILD, [mode, path], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
	return new Promise((resolve, reject) => {
		child.on('message', (m) => {
			if (onMessage(m as Record<string, number>)) child.kill('SIGKILL');
		});
		child.once('error', reject);
		child.once('exit', (code, signal) => (signal === 'SIGKILL' ? resolve(child) : reject(new Error(`child exited with ${code}`))));
	});
}

/** What a reopened store holds, checked for agreement between blocks, indexes, heads, count and meta. */
async function consistentState(path: string) {
	const store = await LevelStore.open(path);
	try {
		const batches = (await store.getMeta<number>('batches')) ?? 0;
		const blocks = await store.ordered(null, 100_000);
		expect(await store.count()).toBe(blocks.length);
		const heads = (await store.heads()).map((h) => `${h.author.slice(-1)}:${h.seq}`).sort();
		return { batches, count: blocks.length, heads, blocks: blocks.map((b) => b.id) };
	} finally {
		await store.close();
	}
}

describe('leveldb store: process killed during appends', () => {
	it('keeps every acknowledged batch, and every batch whole, over several kills', async () => {
		const path = join(dir, 'killed');
		let acked = 0;
		for (const killAt of [3, 17, 40]) {
			await runChild('appends', path, (m) => {
				acked = Math.max(acked, m.acked ?? 0);
				return acked >= killAt;
			});
			const state = await consistentState(path);
			expect(state.batches).toBeGreaterThanOrEqual(acked);
			expect(state.count).toBe(state.batches * 3);
			expect(state.heads).toEqual(['1', '2', '3'].map((a) => `${a}:${state.batches - 1}`));
			acked = state.batches;
		}
	}, 60_000);
});

describe('leveldb store: write-ahead log cut short by a power cut', () => {
	it('reopens to the store before the last append or after it, wherever the log was cut', async () => {
		const path = join(dir, 'torn');
		const logs: number[] = [];
		await runChild('torn', path, (m) => {
			if (m.log !== undefined) logs.push(m.log);
			return logs.length === 2;
		});
		const [before, after] = logs as [number, number];
		expect(after - before).toBeGreaterThan(10_000);
		const log = readdirSync(path).filter((f) => /^\d+\.log$/.test(f))[0]!;
		const full = await consistentState(cpDb(path, 'full'));
		expect(full).toMatchObject({ batches: 2, count: 43 });
		const cuts = new Set<number>([before, after]);
		for (let k = 0; k <= 200; k++) cuts.add(before + Math.round(((after - before) * k) / 200));
		for (let k = 0; k < 64; k++) cuts.add(before + k).add(after - k);
		const seen = new Set<number>();
		for (const cut of [...cuts].sort((a, b) => a - b)) {
			const copy = cpDb(path, `cut-${cut}`);
			truncateSync(join(copy, log), cut);
			const state = await consistentState(copy);
			rmSync(copy, { recursive: true, force: true });
			expect(state.batches === 1 ? state.count : state, `cut at byte ${cut}`).toEqual(state.batches === 1 ? 3 : full);
			seen.add(state.batches);
		}
		expect([...seen].sort()).toEqual([1, 2]);
	}, 120_000);
});

/** A copy of the database directory, as the disk holds it (the writer was killed, its lock is stale). */
function cpDb(path: string, name: string): string {
	const copy = join(dir, name);
	rmSync(copy, { recursive: true, force: true });
	cpSync(path, copy, { recursive: true });
	return copy;
}
