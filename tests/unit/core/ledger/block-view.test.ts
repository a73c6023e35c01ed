// The block-position cache is bounded: the oldest entry leaves first, and a block that
// left it is still found in the store.
import { describe, expect, it } from 'vitest';
import { MemoryStore, type AuthorId, type BlockId } from '../../../../src/lib/core/index.js';
import { BlockView, META_CACHE_LIMIT } from '../../../../src/lib/core/ledger/block-view.js';

const id = (n: number) => n.toString(16).padStart(64, '0') as BlockId;
const author = 'a'.repeat(64) as AuthorId;

describe('BlockView cache', () => {
	it('holds at most META_CACHE_LIMIT positions, oldest out first; one left out is read from the store again', async () => {
		const store = new MemoryStore();
		await store.append([{ id: id(0), author, seq: 0, clock: 0, bytes: new Uint8Array([1]), vv: [0, 0] }]);
		const view = new BlockView(store);
		for (let n = 0; n <= META_CACHE_LIMIT; n++) view.remember({ id: id(n), author, seq: n, clock: n, vv: [0, n] });
		expect(view.cached(id(0))).toBe(false);
		expect(view.cached(id(1))).toBe(true);
		expect(view.cached(id(META_CACHE_LIMIT))).toBe(true);
		expect(await view.meta(id(0), new Map())).toMatchObject({ id: id(0), seq: 0, vv: [0, 0] });
		expect(view.cached(id(0))).toBe(true);
		expect(view.cached(id(1))).toBe(false);
	});
});
