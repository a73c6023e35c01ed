/**
 * The roster is kept between calls (membership-index.ts) and made again only when the
 * membership events or the void set change. A member added in a block that a later
 * equivocation makes void leaves the roster at once, though no membership event arrived.
 */
import { describe, expect, it } from 'vitest';
import { fromHex } from '../../../../src/lib/core/index.js';
import { authorOf, foundNetwork, joinNetwork, makeBlock, syncInto, testSigner } from '../../../../src/lib/core/testing/fixtures.js';

describe('the roster kept between calls', () => {
	it('follows the void set: a member added in a block an equivocation voids is no longer a member', async () => {
		const founder = await foundNetwork({ members: { a: 'admin' } });
		const a = await joinNetwork(founder.net, 'a');
		await syncInto(a, founder);
		const add = await a.append([{ t: 'member.add', key: fromHex(authorOf('x')), role: 'clinician' }]);
		await founder.receive([add.bytes]);
		const before = founder.roster();
		expect(before.get(authorOf('x'))).toBe('clinician');
		// Asked again with nothing changed: the same roster, not a new one.
		expect(founder.roster()).toBe(before);

		// A second version of the same block position, a plain note: no membership event.
		const fork = await makeBlock(testSigner('a'), {
			net: founder.net,
			seq: add.seq,
			prev: add.prev,
			deps: add.deps,
			clock: add.clock,
			txs: [{ t: 'note', text: 'another version' }]
		});
		await founder.receive([fork.bytes]);
		expect([...founder.voided().keys()]).toContain(add.id);
		expect(founder.roster().has(authorOf('x'))).toBe(false);
		expect(founder.roster().get(authorOf('a'))).toBe('admin');
	});

	it('follows the events: a revocation removes the member at once', async () => {
		const founder = await foundNetwork({ members: { b: 'clinician' } });
		expect(founder.roster().has(authorOf('b'))).toBe(true);
		await founder.append([{ t: 'member.revoke', key: fromHex(authorOf('b')) }]);
		expect(founder.roster().has(authorOf('b'))).toBe(false);
	});
});
