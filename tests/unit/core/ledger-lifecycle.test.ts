/** The ledger over its life: founding, reopening, joining and events, refolds from a checkpoint, damage on disk, and checkpoints after a late block. */
import { describe, expect, it } from 'vitest';
import { createBlock, Ledger, MemoryStore, type Fold } from '../../../src/lib/core/index.js';
import {
	authorOf,
	fixedNow,
	foundNetwork,
	joinNetwork,
	syncInto,
	testSigner,
	testVerifier
} from '../../../src/lib/core/testing/fixtures.js';
import { note } from './ledger-support.js';

describe('Ledger basics', () => {
	it('founds a network whose id is the genesis id, and appends chained blocks', async () => {
		const ledger = await foundNetwork();
		const a = await ledger.append(note('one'));
		const b = await ledger.append(note('two'));
		expect(a.net).toBe(ledger.net);
		expect(a.seq).toBe(1);
		expect(b.prev).toBe(a.id);
		expect(b.clock).toBe(a.clock + 1);
		expect(ledger.versionVector()).toEqual({ [authorOf('founder')]: 2 });
		expect(ledger.state().summary).toEqual({ name: 'Test Clinic', blocks: 3, txs: { genesis: 1, note: 2 } });
		const order = [];
		for await (const block of ledger.blocks()) order.push(block.seq);
		expect(order).toEqual([0, 1, 2]);
	});

	it('reopens from its store with the same heads and state', async () => {
		const store = new MemoryStore();
		const ledger = await Ledger.create({
			store,
			signer: testSigner('founder'),
			verifier: testVerifier(),
			genesis: { name: 'X' },
			checkpointEvery: 3
		});
		for (let i = 0; i < 10; i++) await ledger.append(note(`n${i}`));
		const state = structuredClone(ledger.state());
		const again = await Ledger.open({ store, signer: testSigner('founder'), verifier: testVerifier(), checkpointEvery: 3 });
		expect(again.heads()).toEqual(ledger.heads());
		expect(again.state()).toEqual(state);
		await again.append(note('after reopen'));
		expect(again.size).toBe(12);
	});

	it('refuses to create over an existing ledger and to open an empty store without a network id', async () => {
		const ledger = await foundNetwork();
		await expect(
			Ledger.create({ store: ledger.store, signer: testSigner('x'), verifier: testVerifier(), genesis: { name: 'Y' } })
		).rejects.toThrow(/already holds/);
		await expect(Ledger.open({ store: new MemoryStore(), verifier: testVerifier() })).rejects.toThrow(/holds no network/);
	});

	it('a joining node receives the genesis and the members, then may write', async () => {
		const a = await foundNetwork({ members: { clinicB: 'clinician' } });
		await a.append(note('hello'));
		const b = await joinNetwork(a.net, 'clinicB');
		const r = await syncInto(b, a);
		expect(r.rejected).toEqual([]);
		expect(r.accepted.length).toBe(3);
		const mine = await b.append(note('from B'));
		expect(mine.deps.length).toBe(1);
		expect((await syncInto(a, b)).accepted).toEqual([mine.id]);
		expect(a.state()).toEqual(b.state());
	});

	it('appendBatch stores, for each block, the one createBlock makes, signature and all', async () => {
		const a = await foundNetwork({ members: { b: 'clinician' } });
		await a.append(note('first'));
		const batch = await a.appendBatch(Array.from({ length: 25 }, (_, i) => note(`n${i}`)));
		const signer = testSigner('founder');
		for (const block of batch) {
			const stored = await a.store.get(block.id);
			expect(stored?.bytes).toEqual(block.bytes);
			const again = await createBlock(signer, { ...block, net: block.net });
			expect(again.bytes).toEqual(block.bytes); // Ed25519 is deterministic: same body, same signature
			expect(block.signature.some((byte) => byte !== 0)).toBe(true);
		}
		expect((await a.verifyAll()).failures).toEqual([]);
		// A peer verifies every signature of the batch as it receives it.
		const b = await joinNetwork(a.net, 'b');
		const r = await syncInto(b, a);
		expect(r.rejected).toEqual([]);
		expect(b.size).toBe(a.size);
	});

	it('emits accepted and rejected events', async () => {
		const a = await foundNetwork();
		const seen: string[] = [];
		a.on('accepted', (blocks) => seen.push(`ok:${blocks.length}`));
		a.on('rejected', (r) => seen.push(`no:${r.code}`));
		await a.append(note('x'));
		await a.receive([new Uint8Array([1, 2, 3])], 'peer-1');
		expect(seen).toEqual(['ok:1', 'no:NON_CANONICAL']);
	});
});
describe('fold and order', () => {
	it('a block that sorts before folded ones triggers a refold from a checkpoint', async () => {
		const a = await foundNetwork({ members: { b: 'clinician' }, checkpointEvery: 2 });
		const b = await joinNetwork(a.net, 'b', { checkpointEvery: 2 });
		await syncInto(b, a);
		for (let i = 0; i < 6; i++) await a.append(note(`a${i}`));
		await b.append(note('b early')); // clock 3, sorts before most of a's blocks
		await syncInto(a, b);
		await syncInto(b, a);
		const fresh = await joinNetwork(a.net, 'c');
		await syncInto(fresh, a);
		expect(a.state()).toEqual(fresh.state());
		expect(b.state()).toEqual(fresh.state());
		const order = async (l: Ledger) => {
			const ids = [];
			for await (const x of l.blocks()) ids.push(x.id);
			return ids;
		};
		expect(await order(a)).toEqual(await order(fresh));
	});

	it('verifyAll re-checks every stored block and reports progress', async () => {
		const a = await foundNetwork();
		for (let i = 0; i < 30; i++) await a.append(note(`${i}`));
		const progress: number[] = [];
		const r = await a.verifyAll((done) => void progress.push(done), 10);
		expect(r).toEqual({ checked: 31, failures: [] });
		expect(progress).toEqual([10, 20, 30, 31]);
	});

	it('verifyAll checks the next page only once the promise its progress returned settles (the app paces a background check)', async () => {
		const a = await foundNetwork();
		for (let i = 0; i < 30; i++) await a.append(note(`${i}`));
		const events: string[] = [];
		const r = await a.verifyAll(async (done) => {
			events.push(`page ${done}`);
			await new Promise((resolve) => setTimeout(resolve, 5));
			events.push(`resumed ${done}`);
		}, 10);
		expect(r).toEqual({ checked: 31, failures: [] });
		expect(events).toEqual(['page 10', 'resumed 10', 'page 20', 'resumed 20', 'page 30', 'resumed 30', 'page 31', 'resumed 31']);
	});

	it('fixed time makes blocks reproducible', async () => {
		const x = await foundNetwork();
		const y = await foundNetwork();
		expect(x.net).toBe(y.net);
		expect(fixedNow()).toBe(1_700_000_000_000);
	});
});

describe('damage on disk', () => {
	it('a stored block that no longer decodes does not stop the ledger from opening; it is reported', async () => {
		const a = await foundNetwork();
		for (let i = 0; i < 5; i++) await a.append(note(`${i}`));
		const rows = await a.store.ordered(null, 10);
		const victim = rows[3]!;
		(victim.bytes as Uint8Array)[0] = 0xff; // the memory store hands out its own row: corrupt it in place
		const again = await Ledger.open({ store: a.store, verifier: testVerifier() });
		expect(again.damagedBlocks().map((d) => [d.id, d.code])).toEqual([[victim.id, 'NON_CANONICAL']]);
		expect((again.state().summary as { blocks: number }).blocks).toBe(5);
		expect(await Ledger.storedNetwork(a.store)).toBe(a.net);
		expect(await Ledger.storedNetwork(new MemoryStore())).toBeUndefined();
		const check = await again.verifyAll();
		expect(check.failures.map((f) => f.id)).toEqual([victim.id]);
		const controller = new AbortController();
		controller.abort();
		await expect(again.verifyAll(undefined, 500, controller.signal)).rejects.toThrow();
	});
});

describe('checkpoints after a late block', () => {
	it('a block that sorts before every checkpoint drops them all; later refolds stay right', async () => {
		let t = 1_700_000_000_000;
		const a = await foundNetwork({ members: { b: 'clinician' }, checkpointEvery: 10, now: () => t++ });
		const b = await joinNetwork(a.net, 'b', { checkpointEvery: 10, now: () => t++ });
		await syncInto(b, a);
		const a0 = await a.append(note('a0'));
		const own = await b.appendBatch(Array.from({ length: 30 }, (_, i) => note(`b${i}`)));
		await a.receive(own.slice(0, 10).map((x) => x.bytes));
		const a1 = await a.append(note('a1'));
		await b.receive([a0.bytes], 'a');
		await b.receive([a1.bytes], 'a');
		expect((b.state().summary as { blocks: number }).blocks).toBe(34);
		const fresh = await joinNetwork(a.net, 'c');
		await syncInto(fresh, b);
		expect(fresh.state()).toEqual(b.state());
	});
});

describe('checkpoints during a refold for late blocks', () => {
	it('a late batch refolds without writing a checkpoint; its blocks count toward the next one, written on the next block in order', async () => {
		const a = await foundNetwork({ members: { b: 'clinician' }, checkpointEvery: 4 });
		const b = await joinNetwork(a.net, 'b', { checkpointEvery: 4 });
		await syncInto(b, a);
		const own = await b.appendBatch(Array.from({ length: 6 }, (_, i) => note(`b${i}`)));
		for (let i = 0; i < 6; i++) await a.append(note(`a${i}`)); // clocks interleave with b's
		const written: number[] = [];
		const store = a.store as MemoryStore;
		const put = store.putCheckpoint.bind(store);
		store.putCheckpoint = async (c) => {
			written.push(c.count);
			return put(c);
		};
		const r = await a.receive(own.map((x) => x.bytes));
		expect(r.accepted).toHaveLength(6);
		expect(written).toEqual([]);
		await a.append(note('next'));
		expect(written).toEqual([a.size]);
		const fresh = await joinNetwork(a.net, 'c');
		await syncInto(fresh, a);
		expect(a.state()).toEqual(fresh.state());
		const reopened = await Ledger.open({ store: a.store, signer: testSigner('founder'), verifier: testVerifier(), checkpointEvery: 4 });
		expect(reopened.state()).toEqual(fresh.state());
	});

	it('an open whose checkpoint was slow to decode does not write the next one a configured gap later', async () => {
		const store = new MemoryStore();
		// A fold whose state takes 300 ms to decode (a large state): checkpoints under 100 ms are
		// cheap, so the next one is at least 300 / 100 = 3 configured gaps away (at most 20).
		const slow: Fold<number> = {
			name: 'slow',
			version: 1,
			init: () => 0,
			apply: (n) => n + 1,
			encode: (n) => n,
			decode: (v) => {
				const until = performance.now() + 300;
				while (performance.now() < until);
				return v as number;
			}
		};
		const options = { store, signer: testSigner('founder'), verifier: testVerifier(), checkpointEvery: 2, folds: [slow] };
		const ledger = await Ledger.create({ ...options, genesis: { name: 'X' } });
		for (let i = 0; i < 4; i++) await ledger.append(note(`n${i}`)); // checkpoints at 2 and 4 blocks
		const written: number[] = [];
		const put = store.putCheckpoint.bind(store);
		store.putCheckpoint = async (c) => {
			written.push(c.count);
			return put(c);
		};
		const again = await Ledger.open(options);
		for (let i = 0; i < 4; i++) await again.append(note(`m${i}`));
		expect(written).toEqual([]); // the configured gap (2) would have written at 6 and 8
		for (let i = 0; i < 50; i++) await again.append(note(`k${i}`));
		expect(written.length).toBeGreaterThan(0); // still written, further apart
		expect(written[0]! - 4).toBeGreaterThanOrEqual(2 * 3);
		expect((again.state() as { slow: number }).slow).toBe(again.size);
	});
});
