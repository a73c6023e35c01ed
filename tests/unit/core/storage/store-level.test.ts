/** The headless peer's LevelDB store: the store acceptance suite, and what only a database on disk shows. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LevelStore } from '../../../../src/lib/core/storage/level.js';
import { row, runStoreAcceptance } from '../../../../src/lib/core/testing/store-acceptance.js';
import type { AuthorId, BlockId } from '../../../../src/lib/core/types.js';

const dir = mkdtempSync(join(tmpdir(), 'ledger-level-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
runStoreAcceptance('leveldb (Node headless peer)', {
	create: () => LevelStore.open(join(dir, `store-${n++}`)),
	reopen: async (store) => {
		await store.close();
		return LevelStore.open((store as LevelStore).path);
	}
});

describe('leveldb store', () => {
	it('keeps every block an equivocating author wrote at one seq; at, range and heads take the smallest id', async () => {
		const path = join(dir, 'forks');
		const store = await LevelStore.open(path);
		const a = row(1, 0, 0);
		const forkHigh = row(1, 1, 1, 5);
		const forkLow = row(1, 1, 2, 3);
		await store.append([a, forkHigh]);
		await store.append([forkLow]);
		const again = await reopen(store);
		expect((await again.at(a.author, 1))?.id).toBe(forkLow.id);
		expect((await again.range(a.author, 0, 10)).map((b) => b.id)).toEqual([a.id, forkLow.id, forkHigh.id]);
		expect((await again.range(a.author, 1, 1)).map((b) => b.id)).toEqual([forkLow.id]);
		expect(await again.heads()).toEqual([{ author: a.author, seq: 1, id: forkLow.id, clock: 2 }]);
		expect(await again.count()).toBe(3);
		await again.close();
	});

	it('orders by clock numerically (not as text) and by id within a clock, across reopen', async () => {
		const store = await LevelStore.open(join(dir, 'order'));
		const rows = [row(1, 0, 255), row(2, 0, 16), row(3, 0, 2 ** 40), row(4, 0, 16), row(5, 0, 0)];
		await store.append(rows);
		const again = await reopen(store);
		const expected = [...rows].sort((x, y) => x.clock - y.clock || (x.id < y.id ? -1 : 1)).map((b) => b.id);
		expect((await again.ordered(null, 10)).map((b) => b.id)).toEqual(expected);
		expect((await again.ordered([16, rows[1]!.id], 10)).map((b) => b.id)).toEqual(expected.slice(expected.indexOf(rows[1]!.id) + 1));
		expect(await again.ordered(null, 0)).toEqual([]);
		await again.close();
	});

	it('reads a block back byte for byte with its version vector, and evidence whole', async () => {
		const store = await LevelStore.open(join(dir, 'bytes'));
		const bytes = Uint8Array.from({ length: 300 }, (_, i) => (i * 7) & 255);
		const b = { ...row(9, 3, 7), bytes, vv: [0, 4, 9, 3] };
		await store.append([b]);
		const evidence = { id: 'ee' as BlockId, author: b.author, seq: 3, conflictsWith: b.id, bytes: new Uint8Array([1, 2]), seenAt: 42 };
		await store.putEvidence(evidence);
		const again = await reopen(store);
		expect(await again.get(b.id)).toEqual(b);
		expect(await again.evidence()).toEqual([evidence]);
		await again.close();
	});

	it('refuses a second process on the same directory while it is open', async () => {
		const path = join(dir, 'locked');
		const store = await LevelStore.open(path);
		await expect(LevelStore.open(path)).rejects.toMatchObject({ code: 'LEVEL_DATABASE_NOT_OPEN' });
		await store.close();
	});

	it('refuses a database written by a newer format and leaves it alone', async () => {
		const path = join(dir, 'newer');
		const store = await LevelStore.open(path);
		await store.append([row(1, 0, 0)]);
		await store.close();
		const { ClassicLevel } = await import('classic-level');
		const raw = new ClassicLevel<string, string>(path);
		await raw.put('s/format', '99');
		await raw.close();
		await expect(LevelStore.open(path)).rejects.toMatchObject({ code: 'LEDGER_DB_NEWER_FORMAT' });
		const raw2 = new ClassicLevel<string, string>(path);
		expect(await raw2.get('s/format')).toBe('99');
		expect(await raw2.get(`h/${'0'.repeat(63)}1` as AuthorId)).toBeDefined();
		await raw2.close();
	});
});

async function reopen(store: LevelStore): Promise<LevelStore> {
	await store.close();
	return LevelStore.open(store.path);
}
