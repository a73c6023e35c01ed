// The worker pool's answers and failure handling, with stand-in ports that verify with
// noble (the pool's logic is the same whatever the port; tests/browser/worker-verifier.test.ts
// runs it over real Web Workers in Chromium).
import { describe, expect, it } from 'vitest';
import { createWorkerPoolVerifier, nobleSigner, nobleVerifier, publicKeyOf, type VerifyPort } from '../../../../src/lib/core/index.js';
import { foundNetwork, joinNetwork, testSecret } from '../../../../src/lib/core/testing/fixtures.js';
import { packVerifyItems, unpackVerifyItems, type PackedVerifyItems } from '../../../../src/lib/core/crypto/verify-batch.js';

interface Request {
	id: number;
	items: PackedVerifyItems;
}

/** A port answering with noble; `mode` 'broken' fails on its first message, 'silent' never answers. */
function port(mode: 'ok' | 'broken' | 'silent', seen: { messages: number }): VerifyPort {
	const p: VerifyPort = {
		onmessage: null,
		onerror: null,
		postMessage(message: unknown) {
			seen.messages++;
			const { id, items } = message as Request;
			if (mode === 'silent') return;
			if (mode === 'broken') {
				setTimeout(() => p.onerror?.(new Event('error') as ErrorEvent), 1);
				return;
			}
			void Promise.all(unpackVerifyItems(items).map((i) => nobleVerifier.verify(i.signature, i.message, i.publicKey))).then((results) =>
				p.onmessage?.({ data: { id, results } } as MessageEvent)
			);
		},
		terminate() {}
	};
	return p;
}

async function cases(n: number) {
	const signer = nobleSigner(testSecret('pool'));
	const out: [Uint8Array, Uint8Array, Uint8Array][] = [];
	for (let i = 0; i < n; i++) {
		const message = new Uint8Array(32).fill(i);
		const signature = await signer.sign(message);
		if (i % 3 === 0) signature[5]! ^= 1;
		out.push([signature, message, publicKeyOf(testSecret('pool'))]);
	}
	return out;
}

describe('worker pool verifier', () => {
	it('answers as noble, over several workers, in the order asked', async () => {
		const seen = { messages: 0 };
		const pool = createWorkerPoolVerifier(() => port('ok', seen), 3, 'noble');
		const all = await cases(200);
		const answers = await Promise.all(all.map(([s, m, k]) => pool.verify(s, m, k)));
		expect(answers).toEqual(all.map((_, i) => i % 3 !== 0));
		expect(seen.messages).toBeGreaterThanOrEqual(3);
		pool.close();
	});

	it('malformed inputs travel packed as they are and are answered false, like the page answers them', async () => {
		const seen = { messages: 0 };
		const pool = createWorkerPoolVerifier(() => port('ok', seen), 2, 'noble');
		const [s, m, k] = (await cases(2))[1]!;
		const odd: [Uint8Array, Uint8Array, Uint8Array][] = [
			[s!, m!, k!],
			[s!.subarray(0, 63), m!, k!],
			[new Uint8Array(0), m!, k!],
			[s!, m!, k!.subarray(1)],
			[s!, new Uint8Array(0), k!],
			[new Uint8Array(65), new Uint8Array(1000), new Uint8Array(0)]
		];
		const ours = await Promise.all(odd.map(([a, b, c]) => pool.verify(a, b, c)));
		expect(ours).toEqual(await Promise.all(odd.map(([a, b, c]) => nobleVerifier.verify(a, b, c))));
		expect(ours[0]).toBe(true);
		expect(unpackVerifyItems(packVerifyItems(odd.map(([signature, message, publicKey]) => ({ signature, message, publicKey }))))).toEqual(
			odd.map(([signature, message, publicKey]) => ({ signature, message, publicKey }))
		);
		pool.close();
	});

	it('a worker that fails hands its calls (and later ones) to the fallback: same answers', async () => {
		const seen = { messages: 0 };
		let made = 0;
		const pool = createWorkerPoolVerifier(
			() => port(made++ === 0 ? 'broken' : 'ok', seen),
			2,
			'noble',
			async () => nobleVerifier
		);
		const all = await cases(300);
		const answers = await Promise.all(all.map(([s, m, k]) => pool.verify(s, m, k)));
		expect(answers).toEqual(all.map((_, i) => i % 3 !== 0));
		expect(pool.failedWorkers).toBe(1);
		pool.close();
	});

	it('with every worker failed, every call is answered on the page', async () => {
		const seen = { messages: 0 };
		const pool = createWorkerPoolVerifier(
			() => port('broken', seen),
			2,
			'noble',
			async () => nobleVerifier
		);
		const all = await cases(150);
		expect(await Promise.all(all.map(([s, m, k]) => pool.verify(s, m, k)))).toEqual(all.map((_, i) => i % 3 !== 0));
		expect(pool.failedWorkers).toBe(2);
		// Later calls too, without a worker.
		const before = seen.messages;
		expect(await pool.verify(...all[1]!)).toBe(true);
		expect(seen.messages).toBe(before);
		pool.close();
	});

	it('close rejects calls still waiting and later ones: never a false answer for a valid signature', async () => {
		const seen = { messages: 0 };
		const pool = createWorkerPoolVerifier(() => port('silent', seen), 2, 'noble');
		const [valid] = await cases(2).then((c) => c.slice(1));
		const waiting = pool.verify(...valid!);
		await new Promise((r) => setTimeout(r, 5));
		pool.close();
		await expect(waiting).rejects.toMatchObject({ code: 'VERIFIER_CLOSED' });
		await expect(pool.verify(...valid!)).rejects.toMatchObject({ code: 'VERIFIER_CLOSED' });
	});

	it('a ledger whose verifier closes mid-receive throws, refuses nothing and stores nothing; the blocks are accepted later', async () => {
		const source = await foundNetwork({ members: { b: 'clinician' } });
		for (let i = 0; i < 30; i++) await source.append([{ t: 'note', text: `n${i}` }]);
		const blocks: Uint8Array[] = [];
		for await (const b of source.blocksSince({})) blocks.push(b);
		const seen = { messages: 0 };
		const pool = createWorkerPoolVerifier(() => port('silent', seen), 2, 'noble');
		const node = await joinNetwork(source.net, 'x', { verifier: pool });
		const receiving = node.receive(blocks);
		await new Promise((r) => setTimeout(r, 5));
		pool.close();
		await expect(receiving).rejects.toMatchObject({ code: 'VERIFIER_CLOSED' });
		expect(node.size).toBe(0);
		expect(node.rejectedCounts()).toEqual({});
		const again = await joinNetwork(source.net, 'y');
		expect((await again.receive(blocks)).accepted.length).toBe(blocks.length);
	});
});
