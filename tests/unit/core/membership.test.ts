/**
 * Membership at causal positions: roles, revocation cut-offs, re-evaluation of blocks
 * received before a revocation, concurrent add/revoke and mutual revocation, in every
 * arrival order.
 */
import { describe, expect, it } from 'vitest';
import { Ledger, MemoryStore, fromHex, publicKeyOf, type BlockId, type Ledger as LedgerType } from '$lib/core/index.js';
import {
	authorOf,
	fixedNow,
	foundNetwork,
	joinNetwork,
	makeBlock,
	syncInto,
	testSecret,
	testSigner,
	testVerifier
} from '$lib/core/testing/fixtures.js';
import { APP_RULES } from '$lib/domain/rule-registry.js';
import { clinicalNoteTx } from '../support/clinical-note.js';

const note = (text: string) => [{ t: 'note', text }];
const key = (label: string) => publicKeyOf(testSecret(label));
const revoke = (label: string) => [{ t: 'member.revoke', key: key(label) }];
const notes = (l: LedgerType) => (l.state().summary as { txs: Record<string, number> }).txs.note ?? 0;
const voidIds = (l: LedgerType) => [...l.voided().keys()].sort();

async function blocksOf(ledger: LedgerType): Promise<Uint8Array[]> {
	const out: Uint8Array[] = [];
	for await (const b of ledger.blocksSince({})) out.push(b);
	return out;
}

/** Delivers `batches` to a fresh node in order, asking again for what it is missing, like a sync session. */
async function deliver(net: BlockId, label: string, batches: Uint8Array[][], all: Uint8Array[]): Promise<LedgerType> {
	const node = await joinNetwork(net, label, { rules: APP_RULES });
	for (const batch of batches) await node.receive(batch);
	for (let i = 0; i < 5 && node.missing().length > 0; i++) await node.receive(all);
	return node;
}

describe('roles', () => {
	it('a front-desk key cannot admit members: NOT_AUTHORIZED', async () => {
		const a = await foundNetwork({ members: { desk: 'front-desk' }, rules: APP_RULES });
		const desk = await joinNetwork(a.net, 'desk', { rules: APP_RULES });
		await syncInto(desk, a);
		await expect(desk.append([{ t: 'member.add', key: key('x'), role: 'clinician' }])).rejects.toMatchObject({ code: 'NOT_AUTHORIZED' });
		await expect(desk.append(revoke('founder'))).rejects.toMatchObject({ code: 'NOT_AUTHORIZED' });
		// Forged past the local check, the admin's node refuses it the same way.
		const head = desk.heads().find((h) => h.author === authorOf('founder'))!;
		const forged = await makeBlock(testSigner('desk'), {
			net: a.net,
			deps: [head.id],
			clock: head.clock + 1,
			txs: [{ t: 'member.add', key: key('x'), role: 'admin' }]
		});
		const result = await a.receive([forged.bytes]);
		expect(result.rejected.map((r) => r.code)).toEqual(['NOT_AUTHORIZED']);
		expect(a.roster().has(authorOf('x'))).toBe(false);
	});

	it('a patient key cannot sign a clinician note; a clinician can', async () => {
		const a = await foundNetwork({ members: { pat: 'patient', doc: 'clinician' }, rules: APP_RULES });
		const pat = await joinNetwork(a.net, 'pat', { rules: APP_RULES });
		const doc = await joinNetwork(a.net, 'doc', { rules: APP_RULES });
		await syncInto(pat, a);
		await syncInto(doc, a);
		await expect(pat.append([clinicalNoteTx('BP 120/80')])).rejects.toMatchObject({
			code: 'NOT_AUTHORIZED',
			detail: expect.stringContaining('"patient"')
		});
		await doc.append([clinicalNoteTx('BP 120/80')]);
		expect((await syncInto(a, doc)).accepted).toHaveLength(1);
	});

	it('member.role changes a role from its causal position; the last admin cannot be demoted', async () => {
		const a = await foundNetwork({ members: { b: 'front-desk' }, rules: APP_RULES });
		await expect(a.append([{ t: 'member.role', key: key('founder'), role: 'clinician' }])).rejects.toMatchObject({
			code: 'TX_INVALID',
			detail: expect.stringContaining('last admin')
		});
		await expect(a.append([{ t: 'member.role', key: key('b'), role: 'front-desk' }])).rejects.toMatchObject({ code: 'TX_INVALID' });
		await a.append([{ t: 'member.role', key: key('b'), role: 'clinician' }]);
		expect(a.roster().get(authorOf('b'))).toBe('clinician');
		const b = await joinNetwork(a.net, 'b', { rules: APP_RULES });
		await syncInto(b, a);
		await b.append([clinicalNoteTx('now allowed')]);
	});

	it('a revoked key cannot be added again', async () => {
		const a = await foundNetwork({ members: { b: 'clinician' } });
		await a.append(revoke('b'));
		await expect(a.append([{ t: 'member.add', key: key('b'), role: 'clinician' }])).rejects.toMatchObject({
			code: 'TX_INVALID',
			detail: expect.stringContaining('revoked')
		});
	});
});

describe('causal revocation', () => {
	/**
	 * b writes b1 (seen by the admin), then b2 concurrently with its revocation; c builds
	 * on b2 before the revocation reaches it.
	 */
	async function scenario() {
		const a = await foundNetwork({ members: { b: 'clinician', c: 'clinician' } });
		const b = await joinNetwork(a.net, 'b');
		const c = await joinNetwork(a.net, 'c');
		await syncInto(b, a);
		await syncInto(c, a);
		const b1 = await b.append(note('b before the revocation'));
		await syncInto(a, b);
		const b2 = await b.append(note('b concurrent with the revocation'));
		const r = await a.append(revoke('b'));
		await syncInto(c, b); // c accepts b1 and b2: nothing tells it otherwise yet
		const h = await c.append(note('c builds on b2'));
		expect(h.deps).toContain(b2.id);
		return { a, b, c, b1, b2, r, h };
	}

	it('blocks before the revocation stay valid; a concurrent one becomes void where it was accepted', async () => {
		const { a, c, b1, b2 } = await scenario();
		expect(c.voided().size).toBe(0);
		expect(notes(c)).toBe(3);
		const rejected: string[] = [];
		c.on('rejected', (r) => rejected.push(`${r.code}:${r.id}`));
		await syncInto(c, a);
		expect(c.voided().has(b2.id)).toBe(true);
		expect(c.voided().has(b1.id)).toBe(false);
		expect(rejected).toEqual([`NOT_A_MEMBER:${b2.id}`]);
		expect(notes(c)).toBe(2); // b1 and c's own note; b2 no longer counts
		expect(c.roster().has(authorOf('b'))).toBe(false);
	});

	it('a node that knows the revocation keeps the later block void, as every node does', async () => {
		const { a, b, c, b2, h } = await scenario();
		const rejected: string[] = [];
		a.on('rejected', (r) => rejected.push(`${r.code}:${r.id}`));
		const direct = await a.receive([b2.bytes]);
		expect(direct.accepted).toEqual([b2.id]);
		expect(rejected).toEqual([`NOT_A_MEMBER:${b2.id}`]);
		expect(a.voided().has(b2.id)).toBe(true);
		expect(a.size).toBe(5); // genesis, add, b1, revoke, b2 (void)
		await syncInto(a, c); // brings h, which builds on b2
		expect(a.voided().has(b2.id)).toBe(true);
		expect(a.heads().find((x) => x.author === authorOf('c'))?.id).toBe(h.id);
		await syncInto(c, a);
		expect(voidIds(a)).toEqual(voidIds(c));
		expect(notes(a)).toBe(notes(c));
		// b cannot write any more on nodes that know.
		await syncInto(b, a);
		await expect(b.append(note('after'))).rejects.toMatchObject({ code: 'NOT_A_MEMBER' });
	});

	it('every arrival order gives the same void set, roster and state', async () => {
		const { a, c } = await scenario();
		await syncInto(a, c);
		await syncInto(c, a);
		const all = await blocksOf(c);
		const reference = { void: voidIds(c), notes: notes(c), roster: [...c.roster().keys()].sort() };
		// Deterministic shuffles of single-block deliveries and of two halves.
		for (let seed = 1; seed <= 12; seed++) {
			const order = [...all].sort((x, y) => ((x[40]! * seed + x[50]!) % 97) - ((y[40]! * seed + y[50]!) % 97));
			const batches = seed % 3 === 0 ? [order.slice(0, order.length >> 1), order.slice(order.length >> 1)] : order.map((b) => [b]);
			const node = await deliver(a.net, `n${seed}`, batches, all);
			expect({ void: voidIds(node), notes: notes(node), roster: [...node.roster().keys()].sort() }).toEqual(reference);
		}
	});

	it('the void set and the fold survive reopening the store', async () => {
		const store = new MemoryStore();
		const { a, b2 } = await scenario();
		const node = await Ledger.open({ store, verifier: testVerifier(), now: fixedNow, signer: testSigner('n'), net: a.net });
		for (const bytes of await blocksOf(a)) await node.receive([bytes]);
		await node.receive([b2.bytes]);
		const reopened = await Ledger.open({ store, verifier: testVerifier(), now: fixedNow, signer: testSigner('n') });
		expect(voidIds(reopened)).toEqual(voidIds(node));
		expect(reopened.revocations().get(authorOf('b'))).toBe(0);
		expect(notes(reopened)).toBe(notes(node));
	});
});

describe('concurrent membership changes', () => {
	it('an admin adds a member while another admin concurrently revokes the first: the add is void everywhere', async () => {
		const a = await foundNetwork({ members: { x: 'admin', y: 'admin' } });
		const x = await joinNetwork(a.net, 'x');
		const y = await joinNetwork(a.net, 'y');
		const z = await joinNetwork(a.net, 'z');
		await syncInto(x, a);
		await syncInto(y, a);
		const add = await x.append([{ t: 'member.add', key: key('z'), role: 'clinician' }]);
		await syncInto(z, x);
		const zNote = await z.append(note('z writes'));
		await y.append(revoke('x'));
		// Node p learns of the add and z's note first; node q learns of the revocation first.
		const p = await joinNetwork(a.net, 'p');
		await syncInto(p, a);
		await syncInto(p, x);
		await syncInto(p, z);
		expect(p.roster().has(authorOf('z'))).toBe(true);
		await syncInto(p, y);
		const q = await joinNetwork(a.net, 'q');
		await syncInto(q, a);
		await syncInto(q, y);
		await syncInto(q, x);
		await syncInto(q, z);
		for (const node of [p, q]) {
			expect(node.roster().has(authorOf('x'))).toBe(false);
			expect(node.roster().has(authorOf('z'))).toBe(false);
			expect(node.voided().has(add.id)).toBe(true);
		}
		expect(p.voided().has(zNote.id)).toBe(true); // accepted, then undone
		expect(notes(p)).toBe(notes(q));
		expect(notes(p)).toBe(0);
	});

	it('two admins revoking each other concurrently: the first in (clock, id) order wins, on every node', async () => {
		const a = await foundNetwork({ members: { x: 'admin', y: 'admin' } });
		const x = await joinNetwork(a.net, 'x');
		const y = await joinNetwork(a.net, 'y');
		await syncInto(x, a);
		await syncInto(y, a);
		const rx = await x.append(revoke('y'));
		const ry = await y.append(revoke('x'));
		const first = rx.clock < ry.clock || (rx.clock === ry.clock && rx.id < ry.id) ? 'x' : 'y';
		const loser = first === 'x' ? 'y' : 'x';
		const results = [];
		for (const order of [
			[x, y],
			[y, x]
		]) {
			const node = await joinNetwork(a.net, `n-${results.length}`);
			await syncInto(node, a);
			for (const source of order) await syncInto(node, source!);
			results.push(node);
		}
		for (const node of results) {
			expect(node.roster().has(authorOf(first))).toBe(true);
			expect(node.roster().has(authorOf(loser))).toBe(false);
		}
		expect(voidIds(results[0]!)).toEqual(voidIds(results[1]!));
	});
});

describe('M-of-N admins (genesis quorum)', () => {
	async function quorumNetwork() {
		const a = await Ledger.create({
			store: new MemoryStore(),
			verifier: testVerifier(),
			now: fixedNow,
			signer: testSigner('founder'),
			genesis: { name: 'Two-admin clinic', quorum: 2, members: [{ key: key('x'), role: 'admin' }] }
		});
		const x = await joinNetwork(a.net, 'x');
		await syncInto(x, a);
		return { a, x };
	}
	const approve = (block: BlockId, index = 0) => [{ t: 'member.approve', block: fromHex(block), index }];

	it('a change takes effect once a second admin approves it, for blocks that have the approval in their past', async () => {
		const { a, x } = await quorumNetwork();
		expect(a.quorum).toBe(2);
		const proposal = await a.append([{ t: 'member.add', key: key('z'), role: 'clinician' }]);
		expect(a.roster().has(authorOf('z'))).toBe(false);
		expect(a.pendingChanges().map((p) => [p.event.member, p.approvedBy])).toEqual([[authorOf('z'), [authorOf('founder')]]]);
		// The proposer approving its own change counts for nothing.
		await a.append(approve(proposal.id));
		expect(a.roster().has(authorOf('z'))).toBe(false);
		// z cannot write yet, on any node.
		const z = await joinNetwork(a.net, 'z');
		await syncInto(z, a);
		await expect(z.append(note('too early'))).rejects.toMatchObject({ code: 'NOT_A_MEMBER' });
		await syncInto(x, a);
		await x.append(approve(proposal.id));
		expect(x.roster().get(authorOf('z'))).toBe('clinician');
		await syncInto(a, x);
		await syncInto(z, x);
		expect(a.pendingChanges()).toEqual([]);
		const written = await z.append(note('now a member'));
		expect((await a.receive([written.bytes])).accepted).toEqual([written.id]);
	});

	it('a revocation by one admin alone does not take effect', async () => {
		const { a, x } = await quorumNetwork();
		await a.append(revoke('x'));
		expect(a.roster().get(authorOf('x'))).toBe('admin');
		expect(a.revocations().size).toBe(0);
		await syncInto(x, a);
		const still = await x.append(note('x still writes'));
		expect((await a.receive([still.bytes])).accepted).toHaveLength(1);
	});

	it('a quorum larger than the founding admins is refused', async () => {
		await expect(
			Ledger.create({
				store: new MemoryStore(),
				verifier: testVerifier(),
				now: fixedNow,
				signer: testSigner('founder'),
				genesis: { name: 'x', quorum: 3 }
			})
		).rejects.toThrow(/quorum/);
	});
});
