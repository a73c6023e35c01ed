// The explorer's state in Node, on a real ledger of several authors: it reads only the
// clock window it shows, re-verifies a selected block (and catches one altered in the
// store), and finds blocks by id, member and transaction type.
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { Ledger, MemoryStore, type BlockId, type LedgerStore, type StoredBlock } from '../../../src/lib/core/index.js';
import { fixedNow, foundNetwork, joinNetwork, syncInto, testSigner, testVerifier } from '../../../src/lib/core/testing/fixtures.js';
import { APP_FOLDS, APP_INDEXES } from '../../../src/lib/domain/fold-registry.js';
import { ExplorerState, MAX_WINDOW_BLOCKS } from '../../../src/lib/state/explorer.svelte.js';

/** Founder and two clinicians writing in turns, synced after each round: chains woven by deps. */
async function wovenLedger(rounds: number): Promise<Ledger> {
	const founder = await foundNetwork({ members: { ana: 'clinician', ben: 'clinician' }, folds: APP_FOLDS, indexes: APP_INDEXES });
	const ana = await joinNetwork(founder.net, 'ana');
	const ben = await joinNetwork(founder.net, 'ben');
	await syncInto(ana, founder);
	await syncInto(ben, founder);
	for (let r = 0; r < rounds; r++) {
		await founder.append([{ t: 'note', text: `founder ${r}` }]);
		await ana.append([{ t: 'note', text: `ana ${r}` }]);
		await ben.append([{ t: 'note', text: `ben ${r}` }]);
		for (const [to, from] of [
			[founder, ana],
			[founder, ben],
			[ana, founder],
			[ben, founder]
		] as const)
			await syncInto(to, from);
	}
	return founder;
}

/** The same ledger opened again over `store` (a wrapper of its own store). */
function reopen(ledger: Ledger, store: LedgerStore): Promise<Ledger> {
	return Ledger.open({ store, verifier: testVerifier(), net: ledger.net, folds: APP_FOLDS, indexes: APP_INDEXES });
}

/** Counts store reads and can serve one block with altered bytes. */
function spy(store: LedgerStore, tampered?: { id: BlockId; flip: number }) {
	const reads = { ordered: 0, rows: 0 };
	const wrapped = new Proxy(store, {
		get(target, key, receiver) {
			if (key === 'ordered') {
				return async (after: never, limit: number) => {
					const rows = await target.ordered(after, limit);
					reads.ordered++;
					reads.rows += rows.length;
					return rows;
				};
			}
			if (key === 'get' && tampered) {
				return async (id: BlockId) => {
					const row = await target.get(id);
					if (!row || id !== tampered.id) return row;
					const bytes = row.bytes.slice();
					bytes[tampered.flip] = bytes[tampered.flip]! ^ 0x01;
					return { ...row, bytes } satisfies StoredBlock;
				};
			}
			const value = Reflect.get(target, key, receiver);
			return typeof value === 'function' ? value.bind(target) : value;
		}
	});
	return { store: wrapped, reads };
}

// Building the woven ledgers signs and verifies a few hundred blocks with noble: slow on a busy machine.
describe('explorer state', { timeout: 60_000 }, () => {
	it('shows the newest window of a woven ledger: lanes per author, deps between them', async () => {
		const ledger = await wovenLedger(30);
		const explorer = new ExplorerState(() => ledger);
		explorer.setWidth(280); // 20 clocks at 14 px
		await explorer.open();
		expect(explorer.total).toBe(ledger.size);
		expect(explorer.lanes.map((l) => l.name ?? '?')).toHaveLength(3);
		expect(explorer.lanes[0]!.author).toBe((await ledger.store.get(ledger.net))!.author);
		const [from, to] = explorer.loadedRange;
		expect(to).toBeGreaterThanOrEqual(explorer.maxClock);
		for (const b of explorer.blocks) expect(b.clock >= from && b.clock <= to).toBe(true);
		expect(explorer.blocks.length).toBeLessThan(ledger.size);
		const ids = new Set(explorer.blocks.map((b) => b.id));
		expect(explorer.blocks.some((b) => b.deps.some((d) => ids.has(d)))).toBe(true);
		explorer.close();
	});

	it('reads only the window: jumping to the start reads a page, not the ledger', async () => {
		const ledger = await wovenLedger(60);
		const { store, reads } = spy(ledger.store);
		const view = await reopen(ledger, store);
		const explorer = new ExplorerState(() => view);
		explorer.setWidth(140); // 10 clocks
		const beforeOpen = reads.rows;
		await explorer.open();
		const afterOpen = reads.rows;
		expect(afterOpen - beforeOpen).toBeLessThan(ledger.size / 2);
		await explorer.scrollTo(0);
		expect(explorer.blocks[0]!.clock).toBe(0);
		expect(reads.rows - afterOpen).toBeLessThan(ledger.size / 2);
		// Zooming out stops before a window could hold more than the limit.
		for (let i = 0; i < 40; i++) explorer.zoom(0.5);
		expect(explorer.visibleClocks * explorer.lanes.length).toBeLessThanOrEqual(MAX_WINDOW_BLOCKS);
		explorer.close();
	});

	it('re-verifies a selected block, and names a block altered in the store', async () => {
		const ledger = await foundNetwork();
		const good = await ledger.append([{ t: 'note', text: 'dose 5 ml' }]);
		const altered = await ledger.append([{ t: 'note', text: 'dose 7 ml' }]);
		// Flip a byte near the end of the wire block: inside the signature.
		const { store } = spy(ledger.store, { id: altered.id, flip: altered.bytes.length - 3 });
		const view = await reopen(ledger, store);
		const explorer = new ExplorerState(() => view);
		await explorer.open();
		await explorer.select(good.id);
		expect(explorer.selected).toMatchObject({ id: good.id, hashOk: true, signatureOk: true, seq: 1 });
		expect(explorer.selected!.txs[0]).toMatchObject({ type: 'note', text: 'dose 5 ml' });
		await explorer.select(altered.id);
		expect(explorer.selected).toMatchObject({ id: altered.id, hashOk: true, signatureOk: false });
	});

	it('finds blocks by full id, id prefix, member and transaction type', async () => {
		const ledger = await wovenLedger(5);
		const explorer = new ExplorerState(() => ledger);
		await explorer.open();
		const some = explorer.blocks[explorer.blocks.length - 1]!;

		await explorer.find(some.id);
		expect(explorer.search).toMatchObject({ kind: 'id', done: true });
		expect(explorer.search!.hits.map((h) => h.id)).toEqual([some.id]);

		await explorer.find(some.id.slice(0, 6));
		expect(explorer.search!.kind).toBe('id-prefix');
		expect(explorer.search!.hits.map((h) => h.id)).toContain(some.id);

		await explorer.find('note');
		expect(explorer.search).toMatchObject({ kind: 'type', done: true, scanned: ledger.size });
		expect(explorer.search!.hits).toHaveLength(15);

		await explorer.find('member');
		expect(explorer.search!.kind).toBe('type');
		expect(explorer.search!.hits).toHaveLength(1); // the member.add block

		await explorer.find('test clinic'); // the founder's name, from the genesis
		expect(explorer.search!.kind).toBe('author');
		expect(explorer.search!.hits.length).toBeGreaterThan(1);
		expect(explorer.search!.hits.every((h) => h.author === explorer.lanes[0]!.author)).toBe(true);

		const ana = explorer.lanes[1]!.author;
		await explorer.find(ana.slice(0, 10)); // a key prefix
		expect(explorer.search!.kind).toBe('author');
		expect(explorer.search!.hits.map((h) => h.author)).toEqual(Array(5).fill(ana));

		await explorer.find('%%');
		expect(explorer.search).toMatchObject({ kind: 'none', hits: [] });
	});

	it('follows new blocks while showing the newest', async () => {
		// The refresh after new blocks is debounced by a timer: fake it, advance past it.
		vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
		onTestFinished(() => void vi.useRealTimers());
		const ledger = await Ledger.create({
			store: new MemoryStore(),
			verifier: testVerifier(),
			now: fixedNow,
			signer: testSigner('solo'),
			genesis: { name: 'Solo' }
		});
		const explorer = new ExplorerState(() => ledger);
		await explorer.open();
		expect(explorer.total).toBe(1);
		await ledger.append([{ t: 'note', text: 'later' }]);
		await vi.advanceTimersByTimeAsync(400);
		await explorer.ensureLoaded();
		expect(explorer.total).toBe(2);
		expect(explorer.blocks.map((b) => b.seq)).toEqual([0, 1]);
		explorer.close();
	});
});
