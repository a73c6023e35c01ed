import { describe, expect, it } from 'vitest';
import {
	Ledger,
	MemoryStore,
	createWorkerVerifier,
	nobleVerifier,
	publicKeyOf,
	nobleSigner,
	sharedWorkerVerifier,
	type Verifier
} from '../../src/lib/core/index.js';
import { foundNetwork, joinNetwork, testSecret } from '../../src/lib/core/testing/fixtures.js';
import { SPECCHECK } from '../vectors/ed25519.js';
import { fromHex } from '../../src/lib/core/bytes.js';

describe('worker pool verifier in Chromium', () => {
	it('answers exactly as the noble reference on the edge cases and on random flips', async () => {
		const pool = createWorkerVerifier(2)!;
		expect(pool.workers).toBe(2);
		const cases: [Uint8Array, Uint8Array, Uint8Array][] = SPECCHECK.map((c) => [
			fromHex(c.signature),
			fromHex(c.message),
			fromHex(c.publicKey)
		]);
		const signer = nobleSigner(testSecret('w'));
		for (let i = 0; i < 300; i++) {
			const msg = crypto.getRandomValues(new Uint8Array(32));
			const sig = await signer.sign(msg);
			if (i % 2) sig[i % 64]! ^= 1 << (i % 8);
			cases.push([sig, msg, publicKeyOf(testSecret('w'))]);
		}
		const run = (v: Verifier) => Promise.all(cases.map(([s, m, p]) => v.verify(s, m, p)));
		const [ours, reference] = await Promise.all([run(pool), run(nobleVerifier)]);
		expect(ours).toEqual(reference);
		expect(ours.slice(0, 12)).toEqual(SPECCHECK.map((c) => c.valid));
		expect(ours.filter(Boolean).length).toBeGreaterThan(100);
		pool.close();
	});

	it('a ledger receiving through the pool accepts and refuses the same blocks', async () => {
		const source = await foundNetwork({ members: { b: 'clinician' } });
		for (let i = 0; i < 200; i++) await source.append([{ t: 'note', text: `n${i}` }]);
		const blocks: Uint8Array[] = [];
		for await (const b of source.blocksSince({})) blocks.push(b);
		const bad = blocks[7]!.slice();
		bad[bad.length - 3]! ^= 4;
		const pool = createWorkerVerifier(2)!;
		const node = await joinNetwork(source.net, 'x', { verifier: pool });
		const r = await node.receive([bad, ...blocks]);
		expect(r.accepted.length).toBe(blocks.length);
		expect(r.rejected.map((x) => x.code)).toEqual(['BAD_SIGNATURE']);
		expect(node.state()).toEqual(source.state());
		pool.close();
	});

	it('a ledger opened in a page without a verifier checks signatures in the shared pool, with the same answers', async () => {
		const source = await foundNetwork({ members: { b: 'clinician' } });
		for (let i = 0; i < 100; i++) await source.append([{ t: 'note', text: `n${i}` }]);
		const blocks: Uint8Array[] = [];
		for await (const b of source.blocksSince({})) blocks.push(b);
		const bad = blocks[9]!.slice();
		bad[bad.length - 5]! ^= 2;
		const node = await Ledger.open({ store: new MemoryStore(), net: source.net });
		const pool = sharedWorkerVerifier()!;
		expect(pool.workers).toBeGreaterThanOrEqual(2);
		expect(node.verifierWorkers).toBe(pool.workers);
		// Two batches in flight at once, as a sync session hands them over.
		const [first, second] = await Promise.all([node.receive([bad, ...blocks.slice(0, 50)]), node.receive(blocks.slice(50))]);
		expect(first.accepted.length + second.accepted.length).toBe(blocks.length);
		expect([...first.rejected, ...second.rejected].map((r) => r.code)).toEqual(['BAD_SIGNATURE']);
		expect(node.state()).toEqual(source.state());
		// A second ledger in the page shares the pool: no new workers.
		const other = await Ledger.open({ store: new MemoryStore(), net: source.net });
		expect(sharedWorkerVerifier()).toBe(pool);
		expect(other.verifierWorkers).toBe(pool.workers);
	});
});
