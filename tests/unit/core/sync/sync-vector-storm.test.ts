// Two peers each holding blocks the other lacks, with signature checks that take a while
// (a worker pool's round trip): each used to answer every vector with its own while
// behind, so vectors bounced until the blocks were validated. Over a link that delivers in
// microtasks (the demo's) that never yields to the timers the checks wait for: a frozen page.
import { describe, expect, it } from 'vitest';
import { Replicator, decodeMessage, memoryLinkPair, type Link, type Verifier } from '../../../../src/lib/core/index.js';
import { createNodeVerifier } from '../../../../src/lib/core/crypto/node-verifier.js';
import { foundNetwork, joinNetwork } from '../../../../src/lib/core/testing/fixtures.js';

/** Counts `vv` frames sent on `link`; past `cap` it drops them (so a storm ends and the test can fail instead of hanging). */
function countVectors(link: Link, cap: number) {
	const seen = { vv: 0 };
	const send = link.send.bind(link);
	link.send = (frame: Uint8Array) => {
		let kind: string | undefined;
		try {
			kind = (decodeMessage(frame) as { m?: string }).m;
		} catch {
			kind = undefined;
		}
		if (kind === 'vv' && ++seen.vv > cap) return;
		send(frame);
	};
	return seen;
}

describe('vectors between two peers each behind the other', () => {
	it('are answered once per news, not bounced while the blocks are being checked', async () => {
		const node = await createNodeVerifier();
		// Each answer comes 20 ms later, from a timer, as from a worker.
		const slow: Verifier = { name: node.name, verify: (s, m, k) => new Promise((r) => setTimeout(() => r(node.verify(s, m, k)), 20)) };
		const a = await foundNetwork({ members: { b: 'clinician' }, verifier: slow });
		const b = await joinNetwork(a.net, 'b', { verifier: slow });
		const blocks: Uint8Array[] = [];
		for await (const bytes of a.blocksSince({})) blocks.push(bytes);
		await b.receive(blocks);
		for (let i = 0; i < 5; i++) await a.append([{ t: 'note', text: `a${i}` }]);
		for (let i = 0; i < 5; i++) await b.append([{ t: 'note', text: `b${i}` }]);
		const ra = new Replicator(a, { tickMs: 0 });
		const rb = new Replicator(b, { tickMs: 0 });
		const [la, lb] = memoryLinkPair();
		const fromA = countVectors(la, 500);
		const fromB = countVectors(lb, 500);
		ra.attach(la, 'to-b');
		rb.attach(lb, 'to-a');
		const key = (l: typeof a) => JSON.stringify(Object.entries(l.versionVector()).sort());
		const end = Date.now() + 20_000;
		while (key(a) !== key(b) || a.size !== 12) {
			if (Date.now() > end) break;
			await new Promise((r) => setTimeout(r, 5));
		}
		expect(key(b)).toBe(key(a));
		expect(a.size).toBe(12);
		expect(fromA.vv + fromB.vv, `vectors sent: ${fromA.vv} by A, ${fromB.vv} by B`).toBeLessThan(20);
		ra.close();
		rb.close();
	});
});
