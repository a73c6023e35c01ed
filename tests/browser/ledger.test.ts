import { describe, expect, it } from 'vitest';
import {
	IndexedDBStore,
	Ledger,
	createSigner,
	createWebCryptoVerifier,
	detectVerifier,
	nobleVerifier,
	type Block
} from '../../src/lib/core/index.js';
import { foundNetwork, joinNetwork, syncInto, testSecret } from '../../src/lib/core/testing/fixtures.js';
import { checkpointRecords } from './fixtures/checkpoint-records.js';

// The ledger on real IndexedDB with Chromium's WebCrypto Ed25519.
const run = `${Date.now()}`;
let n = 0;
const dbName = () => `ledger-${run}-${n++}`;

describe('Ledger in Chromium', () => {
	it('uses WebCrypto for signatures in this browser', async () => {
		expect((await detectVerifier()).name).toBe('webcrypto');
	});

	it('creates, appends, closes, reopens from IndexedDB with nothing lost', async () => {
		const name = dbName();
		const signer = await createSigner(testSecret('founder'));
		const ledger = await Ledger.create({
			store: await IndexedDBStore.open(name),
			signer,
			genesis: { name: 'Browser Clinic' },
			checkpointEvery: 10
		});
		expect(ledger.verifierName).toBe('webcrypto');
		const appended: Block[] = [];
		for (let i = 0; i < 25; i++) appended.push(await ledger.append([{ t: 'note', text: `entry ${i}` }]));
		const state = structuredClone(ledger.state());
		await ledger.close();
		const again = await Ledger.open({ store: await IndexedDBStore.open(name), signer });
		expect(again.net).toBe(ledger.net);
		expect(again.size).toBe(26);
		expect(again.state()).toEqual(state);
		const last = appended[appended.length - 1]!;
		expect(again.heads()[0]?.id).toBe(last.id);
		const check = await again.verifyAll();
		expect(check).toEqual({ checked: 26, failures: [] });
		await again.close();
	});

	it('keeps few checkpoints in IndexedDB as the ledger grows, small ones as written, and a late block still folds to the in-order state', async () => {
		const name = dbName();
		const a = await foundNetwork({ members: { b: 'clinician' } });
		const b = await joinNetwork(a.net, 'b');
		await syncInto(b, a);
		const late = await b.append([{ t: 'note', text: 'written offline early' }]);
		for (let i = 0; i < 300; i++) await a.append([{ t: 'note', text: `entry ${i}` }]);
		const x = await Ledger.open({
			store: await IndexedDBStore.open(name),
			signer: await createSigner(testSecret('x')),
			net: a.net,
			checkpointEvery: 2
		});
		const chain: Uint8Array[] = [];
		for await (const bytes of a.blocksSince({})) chain.push(bytes);
		for (let i = 0; i < chain.length; i += 20) expect((await x.receive(chain.slice(i, i + 20))).rejected).toEqual([]);
		// Read IndexedDB itself, not through the store: the checkpoint records there, in order.
		const records = () => checkpointRecords(name);
		// 150 written (one every 2 of 302 blocks); kept: about 2 log2 of the clock.
		const kept = await records();
		expect(kept.length).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(302)) + 3);
		expect(kept.length).toBeGreaterThan(3);
		// States this small (under COMPRESS_FROM_BYTES) stay as written: none is gzip (1f 8b). Compressed ones: checkpoint-bytes.test.ts.
		expect(kept.filter((c) => c.state[0] === 0x1f && c.state[1] === 0x8b)).toEqual([]);
		expect((await x.receive([late.bytes])).accepted).toHaveLength(1);
		await syncInto(a, b);
		expect(x.state()).toEqual(a.state());
		// The late block rewound to a checkpoint before it: those after it were dropped.
		expect((await records()).length).toBeLessThan(kept.length);
		await x.close();
		const again = await Ledger.open({ store: await IndexedDBStore.open(name), signer: await createSigner(testSecret('x')) });
		expect(again.state()).toEqual(a.state());
		await again.close();
	});

	it('WebCrypto and noble paths accept and reject exactly the same blocks', async () => {
		const source = await foundNetwork({ members: { b: 'clinician' } });
		for (let i = 0; i < 20; i++) await source.append([{ t: 'note', text: `n${i}` }]);
		const blocks: Uint8Array[] = [];
		for await (const b of source.blocksSince({})) blocks.push(b);
		const tampered = blocks.map((b, i) => {
			const copy = b.slice();
			copy[copy.length - 1 - (i % 64)]! ^= 1 << (i % 8); // inside the signature
			return copy;
		});
		const web = await joinNetwork(source.net, 'web', { verifier: createWebCryptoVerifier(crypto.subtle) });
		const noble = await joinNetwork(source.net, 'noble', { verifier: nobleVerifier });
		const rw = await web.receive([...tampered, ...blocks]);
		const rn = await noble.receive([...tampered, ...blocks]);
		expect(rw.accepted).toEqual(rn.accepted);
		expect(rw.rejected.map((r) => r.code)).toEqual(rn.rejected.map((r) => r.code));
		expect(rw.rejected.every((r) => r.code === 'BAD_SIGNATURE')).toBe(true);
		expect(rw.accepted.length).toBe(blocks.length);
	});

	it('a node on IndexedDB syncs from another and folds to the same state', async () => {
		const a = await foundNetwork({ members: { b: 'clinician' } });
		await a.append([{ t: 'note', text: 'from a' }]);
		const b = await Ledger.open({ store: await IndexedDBStore.open(dbName()), signer: await createSigner(testSecret('b')), net: a.net });
		const r = await syncInto(b, a);
		expect(r.rejected).toEqual([]);
		await b.append([{ t: 'note', text: 'from b' }]);
		await syncInto(a, b);
		expect(b.state()).toEqual(a.state());
		await b.close();
	});

	it('a failed write leaves the ledger consistent: the store refuses, the view stays as it was', async () => {
		const store = await IndexedDBStore.open(dbName());
		const signer = await createSigner(testSecret('founder'));
		const ledger = await Ledger.create({ store, signer, genesis: { name: 'X' } });
		await store.close(); // simulate the database going away under the ledger
		await expect(ledger.append([{ t: 'note', text: 'lost?' }])).rejects.toThrow();
		expect(ledger.size).toBe(1);
		expect(ledger.heads()[0]?.seq).toBe(0);
	});
});
