// The page's signer in real Chromium: a Web Worker holding the non-extractable key signs
// the same bytes as the noble reference, and a ledger appending through it writes blocks
// every other node accepts.
import { describe, expect, it } from 'vitest';
import { Ledger, MemoryStore, createWorkerSigner, nobleSigner, nobleVerifier, publicKeyOf } from '../../src/lib/core/index.js';
import { fixedNow, foundNetwork, joinNetwork, syncInto, testSecret } from '../../src/lib/core/testing/fixtures.js';

describe('worker signer in Chromium', () => {
	it('signs exactly as the reference, for messages of every length asked at once', async () => {
		const signer = await createWorkerSigner(testSecret('w'));
		const reference = nobleSigner(testSecret('w'));
		expect(signer.publicKey).toEqual(publicKeyOf(testSecret('w')));
		expect('failed' in signer).toBe(true);
		const messages = Array.from({ length: 200 }, (_, i) => crypto.getRandomValues(new Uint8Array([32, 0, 1, 64, 1000][i % 5]!)));
		const ours = await Promise.all(messages.map((m) => signer.sign(m)));
		expect(ours).toEqual(await Promise.all(messages.map((m) => reference.sign(m))));
		expect((signer as unknown as { failed: boolean }).failed).toBe(false);
		(signer as unknown as { close(): void }).close();
	});

	it('a ledger appending a batch through it writes the same blocks as the reference, accepted by another node', async () => {
		const founder = await foundNetwork({ members: { b: 'clinician' } });
		const signer = await createWorkerSigner(testSecret('b'));
		const open = (s: typeof signer) =>
			Ledger.open({ store: new MemoryStore(), verifier: nobleVerifier, now: fixedNow, signer: s, net: founder.net });
		const viaWorker = await open(signer);
		const reference = await open(nobleSigner(testSecret('b')));
		for (const node of [viaWorker, reference]) await syncInto(node, founder);
		const batches = Array.from({ length: 300 }, (_, i) => [{ t: 'note', text: `entry ${i}` }]);
		const ours = await viaWorker.appendBatch(batches);
		expect(ours.map((b) => b.bytes)).toEqual((await reference.appendBatch(batches)).map((b) => b.bytes));
		const observer = await joinNetwork(founder.net, 'observer');
		await syncInto(observer, founder);
		const r = await syncInto(observer, viaWorker);
		expect(r.rejected).toEqual([]);
		expect(r.accepted.length).toBe(300);
		(signer as unknown as { close(): void }).close();
	});
});
