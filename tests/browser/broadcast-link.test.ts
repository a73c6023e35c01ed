import { expect, it } from 'vitest';
import { Replicator } from '../../src/lib/core/index.js';
import { broadcastLink } from '../../src/lib/core/sync/channel-link.js';
import { foundNetwork, joinNetwork } from '../../src/lib/core/testing/fixtures.js';

it('the sync protocol runs over a BroadcastChannel pair between two nodes of one origin', async () => {
	const a = await foundNetwork({ members: { b: 'clinician' } });
	for (let i = 0; i < 50; i++) await a.append([{ t: 'note', text: `n${i}` }]);
	const b = await joinNetwork(a.net, 'b');
	const ra = new Replicator(a, { tickMs: 200 });
	const rb = new Replicator(b, { tickMs: 200 });
	const name = `bc-test-${Date.now()}`;
	const sa = ra.attach(broadcastLink(name, 'a', 'b'), 'b');
	rb.attach(broadcastLink(name, 'b', 'a'), 'a');
	const deadline = Date.now() + 15_000;
	while (b.size < a.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
	expect(b.size).toBe(a.size);
	expect(sa.linkKind).toBe('broadcast');
	const fromB = await b.append([{ t: 'note', text: 'back over the channel' }]);
	while (!a.heads().some((h) => h.id === fromB.id) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
	expect(a.state()).toEqual(b.state());
	ra.close();
	rb.close();
});
