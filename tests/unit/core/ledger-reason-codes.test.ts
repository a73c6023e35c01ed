/** Every reason code the ledger gives a received block (parking, the bounded pending pool and equivocation included), and a check that all are covered. */
import { describe, expect, it } from 'vitest';
import { publicKeyOf } from '../../../src/lib/core/crypto/ed25519.js';
import {
	Ledger,
	MAX_BLOCK_BYTES,
	REASON_CODES,
	decodeBlock,
	encodeCanonical,
	fromHex,
	hashBody,
	type ReasonCode
} from '../../../src/lib/core/index.js';
import {
	authorOf,
	foundNetwork,
	joinNetwork,
	makeBlock,
	syncInto,
	testSecret,
	testSigner
} from '../../../src/lib/core/testing/fixtures.js';
import { note } from './ledger-support.js';

/** Receives `bytes` on a fresh copy of `source`'s ledger and returns the single outcome's code. */
async function outcome(target: Ledger, bytes: Uint8Array): Promise<ReasonCode | 'ACCEPTED' | 'PARKED'> {
	const r = await target.receive([bytes]);
	if (r.accepted.length) return 'ACCEPTED';
	if (r.duplicates) return 'DUPLICATE';
	if (r.rejected[0]) return r.rejected[0].code;
	return 'PARKED';
}

describe('every reason code', () => {
	const seen = new Set<string>();
	const expectCode = async (target: Ledger, bytes: Uint8Array, code: ReasonCode) => {
		expect(await outcome(target, bytes)).toBe(code);
		seen.add(code);
		expect(target.rejectedCounts()[code] ?? (code === 'DUPLICATE' ? 1 : 0)).toBeGreaterThan(0);
	};

	it('TOO_LARGE', async () => {
		const a = await foundNetwork();
		await expectCode(a, new Uint8Array(MAX_BLOCK_BYTES + 1), 'TOO_LARGE');
	});

	it('NON_CANONICAL: garbage, non-minimal ints, unsorted keys', async () => {
		const a = await foundNetwork();
		await expectCode(a, new Uint8Array([0xff, 0x00]), 'NON_CANONICAL');
		const good = await a.append(note('x'));
		// Re-encode the outer array with a non-minimal length prefix: 0x83 → 0x98 0x03.
		const bad = new Uint8Array([0x98, 0x03, ...good.bytes.subarray(1)]);
		await expectCode(a, bad, 'NON_CANONICAL');
	});

	it('MALFORMED: canonical CBOR that is not a block', async () => {
		const a = await foundNetwork();
		await expectCode(a, encodeCanonical({ hello: 'world' }), 'MALFORMED');
		await expectCode(a, encodeCanonical([new Uint8Array(32), encodeCanonical({ v: 1 }), new Uint8Array(64)]), 'MALFORMED');
	});

	it('BAD_HASH: body changed, id kept', async () => {
		const a = await foundNetwork();
		const b = await joinNetwork(a.net, 'other');
		await syncInto(b, a);
		const block = await a.append(note('original'));
		const [id, , sig] = [fromHex(block.id), block.body, block.signature];
		const forgedBody = encodeCanonical({
			...((await import('../../../src/lib/core/codec.js')).decodeCanonical(block.body) as object),
			time: 1
		} as never);
		await expectCode(b, encodeCanonical([id, forgedBody, sig]), 'BAD_HASH');
	});

	it('BAD_SIGNATURE: body changed and id recomputed, or signed by someone else', async () => {
		const a = await foundNetwork();
		const b = await joinNetwork(a.net, 'other');
		await syncInto(b, a);
		const block = await a.append(note('original'));
		const { decodeCanonical } = await import('../../../src/lib/core/codec.js');
		const body = encodeCanonical({ ...(decodeCanonical(block.body) as object), time: 1 } as never);
		await expectCode(b, encodeCanonical([hashBody(body), body, block.signature]), 'BAD_SIGNATURE');
	});

	it('WRONG_NETWORK: a block or genesis of another network', async () => {
		const a = await foundNetwork();
		const other = await foundNetwork({ founder: 'elsewhere' });
		const foreign = await other.append(note('foreign'));
		await expectCode(a, foreign.bytes, 'WRONG_NETWORK');
		const genesis = (await other.store.ordered(null, 1))[0]!;
		await expectCode(a, genesis.bytes, 'WRONG_NETWORK');
	});

	it('DUPLICATE: a replayed block changes nothing', async () => {
		const a = await foundNetwork();
		const b = await joinNetwork(a.net, 'x');
		await syncInto(b, a);
		const block = await a.append(note('once'));
		expect(await outcome(b, block.bytes)).toBe('ACCEPTED');
		expect(await outcome(b, block.bytes)).toBe('DUPLICATE');
		seen.add('DUPLICATE');
		expect(b.size).toBe(2);
	});

	it('SEQ_GAP parks, then the block is accepted when the gap fills', async () => {
		const a = await foundNetwork();
		const b = await joinNetwork(a.net, 'x');
		await syncInto(b, a);
		const one = await a.append(note('1'));
		const two = await a.append(note('2'));
		const r = await b.receive([two.bytes]);
		expect(r.pending).toBe(1);
		expect(r.missing).toEqual([one.id]);
		seen.add('SEQ_GAP');
		const r2 = await b.receive([one.bytes]);
		expect(r2.accepted).toEqual([one.id, two.id]);
		expect(b.pendingCount).toBe(0);
	});

	it('the pending pool is bounded; dropped blocks come back through the version vector', async () => {
		const a = await foundNetwork();
		const b = await joinNetwork(a.net, 'x', { pendingLimit: 3 });
		await syncInto(b, a);
		const made = [];
		for (let i = 0; i < 6; i++) made.push(await a.append(note(`${i}`)));
		const r = await b.receive(made.slice(1).map((m) => m.bytes));
		expect(r.pending).toBe(3);
		const r2 = await b.receive([made[0]!.bytes]);
		expect(r2.accepted.length).toBeLessThan(6);
		expect((await syncInto(b, a)).rejected).toEqual([]);
		expect(b.heads()).toEqual(a.heads());
		expect(b.pendingCount).toBe(0);
	});

	it('PREV_MISMATCH', async () => {
		const a = await foundNetwork();
		const one = await a.append(note('1'));
		const bad = await makeBlock(testSigner('founder'), { net: a.net, seq: 2, prev: a.net, clock: one.clock + 1 });
		await expectCode(a, bad.bytes, 'PREV_MISMATCH');
	});

	it('EQUIVOCATION: both blocks kept, void from the fork on, as evidence; the author flagged', async () => {
		const a = await foundNetwork({ members: { b: 'clinician' } });
		const b = await joinNetwork(a.net, 'b');
		await syncInto(b, a);
		const one = await b.append(note('1'));
		await syncInto(a, b);
		const twin = await makeBlock(testSigner('b'), {
			net: a.net,
			seq: one.seq,
			prev: one.prev,
			deps: one.deps,
			clock: one.clock,
			txs: note('other 1')
		});
		expect(twin.id).not.toBe(one.id);
		expect(await outcome(a, twin.bytes)).toBe('ACCEPTED');
		expect(a.rejectedCounts().EQUIVOCATION).toBe(2); // both versions lost their effect
		seen.add('EQUIVOCATION');
		expect(a.flaggedAuthors()).toEqual([authorOf('b')]);
		expect([...a.voided().keys()].sort()).toEqual([one.id, twin.id].sort());
		const [low, high] = [one.id, twin.id].sort();
		const evidence = await a.evidence();
		expect(evidence.map((e) => [e.id, e.conflictsWith])).toEqual([[high, low]]);
		expect(a.heads().find((h) => h.author === authorOf('b'))?.id).toBe(low);
	});

	it('MISSING_DEPS parks until the dep arrives', async () => {
		const a = await foundNetwork({ members: { b: 'clinician' } });
		const b = await joinNetwork(a.net, 'b');
		await syncInto(b, a);
		const fromB = await b.append(note('b1'));
		const fromA = await a.append(note('a-after-b')); // a has not seen b1
		await syncInto(a, b);
		const later = await a.append(note('a2')); // deps: b1
		expect(later.deps).toEqual([fromB.id]);
		const c = await joinNetwork(a.net, 'c');
		const all: Uint8Array[] = [];
		for await (const x of a.blocksSince({})) all.push(x);
		const withoutB = all.filter((x) => decodeBlock(x).id !== fromB.id);
		const r = await c.receive(withoutB);
		expect(r.missing).toEqual([fromB.id]);
		expect(r.pending).toBe(1);
		seen.add('MISSING_DEPS');
		expect((await c.receive([fromB.bytes])).accepted).toEqual([fromB.id, later.id]);
		expect(c.state()).toEqual(a.state());
		expect(fromA.deps).toEqual([]);
	});

	it('BAD_CLOCK', async () => {
		const a = await foundNetwork();
		const bad = await makeBlock(testSigner('founder'), { net: a.net, seq: 1, prev: a.net, clock: 7 });
		await expectCode(a, bad.bytes, 'BAD_CLOCK');
	});

	it('NOT_A_MEMBER: a stranger, and a revoked member after the revocation', async () => {
		const a = await foundNetwork({ members: { b: 'clinician' } });
		const stranger = await makeBlock(testSigner('stranger'), { net: a.net, deps: [a.net], clock: 1 });
		await expectCode(a, stranger.bytes, 'NOT_A_MEMBER');
		const b = await joinNetwork(a.net, 'b');
		await syncInto(b, a);
		const before = await b.append(note('before revoke'));
		await syncInto(a, b);
		await a.append([{ t: 'member.revoke', key: publicKeyOf(testSecret('b')) }]);
		await syncInto(b, a); // b now has the revocation in its past
		await expect(b.append(note('after revoke'))).rejects.toMatchObject({ code: 'NOT_A_MEMBER' });
		const forged = await makeBlock(testSigner('b'), {
			net: a.net,
			seq: 1,
			prev: before.id,
			deps: [a.heads().find((h) => h.author === authorOf('founder'))!.id],
			clock: a.heads().reduce((m, h) => Math.max(m, h.clock), 0) + 1
		});
		await expectCode(a, forged.bytes, 'NOT_A_MEMBER');
		// The block made before the revocation stays valid everywhere.
		const c = await joinNetwork(a.net, 'c');
		await syncInto(c, a);
		expect(c.heads().find((h) => h.author === authorOf('b'))?.id).toBe(before.id);
	});

	it('NOT_AUTHORIZED: a member whose role may not sign the transaction', async () => {
		const a = await foundNetwork({ members: { b: 'clinician' } });
		const b = await joinNetwork(a.net, 'b');
		await syncInto(b, a);
		await expect(b.append([{ t: 'member.add', key: publicKeyOf(testSecret('z')), role: 'admin' }])).rejects.toMatchObject({
			code: 'NOT_AUTHORIZED'
		});
		const bHead = b.heads().find((h) => h.author === authorOf('founder'))!;
		const forged = await makeBlock(testSigner('b'), {
			net: a.net,
			deps: [bHead.id],
			clock: bHead.clock + 1,
			txs: [{ t: 'member.revoke', key: publicKeyOf(testSecret('founder')) }]
		});
		await expectCode(a, forged.bytes, 'NOT_AUTHORIZED');
	});

	it('TX_INVALID: unknown type, bad fields', async () => {
		const a = await foundNetwork({ members: { b: 'clinician' } });
		await expect(a.append([{ t: 'no.such.type' }])).rejects.toMatchObject({ code: 'TX_INVALID' });
		await expect(a.append([{ t: 'note', text: '' }])).rejects.toMatchObject({ code: 'TX_INVALID' });
		const genesisAgain = await makeBlock(testSigner('founder'), {
			net: a.net,
			seq: 2,
			prev: a.heads()[0]!.id,
			clock: 2,
			txs: [{ t: 'genesis', name: 'again' }]
		});
		await expectCode(a, genesisAgain.bytes, 'TX_INVALID');
		expect(a.size).toBe(2);
	});

	it('covers every code', () => {
		expect([...seen].sort()).toEqual([...REASON_CODES].sort());
	});
});
