/**
 * Issue 16 item 4: a member who does not hold a data key writes bogus `key.wrap`s or
 * `record.put`s for it, with the clock it likes (by choosing parents), before, beside or
 * after the genuine ones. Whatever the order they arrive and fold in, the patient and the
 * granted clinics open the record, and every node ends with the same state.
 */
import { accessSnapshot } from '../../support/access.js';
import { describe, expect, it } from 'vitest';
import { canonicalState } from '../../support/canonical-state.js';
import { decodeBlock, fromHex, toHex, type Block, type BlockId, type CborValue, type Ledger, type Tx } from '$lib/core/index.js';
import { signNoble } from '$lib/core/crypto/ed25519.js';
import { authorOf, fixedNow, foundNetwork, joinNetwork, makeBlock, syncInto, testSecret, testSigner } from '$lib/core/testing/fixtures.js';
import { APP_FOLDS, APP_INDEXES } from '$lib/domain/fold-registry.js';
import { APP_RULES } from '$lib/domain/rule-registry.js';
import { revokeGrantTx, revokeMessage } from '$lib/domain/privacy/consent.js';
import { encryptionSecretKey, newDataKey, openRecord, sealRecord, wrapKeyFor, type RecordContext } from '$lib/domain/privacy/envelope.js';
import { RecordBook } from '$lib/domain/records/book.js';
import { encodeResource } from '$lib/domain/records/fhir.js';
import { Keyring } from '$lib/domain/records/keyring.js';
import { recordPutRule } from '$lib/domain/records/transactions.js';
import { grant, grantWithId, labResult, patientKey } from '../../support/patients.js';

const NOW = fixedNow();
const options = { rules: APP_RULES, folds: APP_FOLDS, indexes: APP_INDEXES };
const MARKER = 'MARKER-genuine-7731';
/** The permutation tests build dozens of ledgers: seconds on an idle machine, more with both cores busy. */
const SLOW = 120_000;

const memberBook = (ledger: Ledger, label: string) =>
	new RecordBook(ledger, new Keyring(authorOf(label), encryptionSecretKey(testSecret(label))));

const blocksOf = async (ledger: Ledger) =>
	(await ledger.store.ordered(null, 10_000)).map((s) => ({ bytes: s.bytes, block: decodeBlock(s.bytes) }));

/** Wraps of a key its writer made up (so it knows it), valid for each reader's key: only the key id can tell them from genuine ones. */
function junkWraps(readers: readonly string[], context: RecordContext, junk = newDataKey()): Record<string, CborValue>[] {
	const wrapped = wrapKeyFor(
		junk,
		readers.map((reader) => ({ reader, publicKey: fromHex(reader) })),
		context
	);
	return wrapped.map((w, i) => ({ reader: fromHex(readers[i]!), eph: w.eph, nonce: w.nonce, wrapped: w.wrapped }));
}
/** Wraps that are not even well-formed ciphertext. */
const garbageWraps = (readers: readonly string[]) =>
	readers.map((reader) => ({
		reader: fromHex(reader),
		eph: crypto.getRandomValues(new Uint8Array(32)),
		nonce: crypto.getRandomValues(new Uint8Array(24)),
		wrapped: crypto.getRandomValues(new Uint8Array(48))
	}));

/**
 * A network where clinic A wrote a lab result of patient P that A and clinic B may read,
 * and members without the key: front desk D, billing E, clinician C (no grant).
 */
async function scene() {
	const a = await foundNetwork({
		...options,
		founder: 'clinic-a',
		members: { 'clinic-b': 'clinician', 'clinic-c': 'clinician', 'desk-a': 'front-desk', 'bill-a': 'billing', 'res-a': 'researcher' }
	});
	const p = patientKey();
	const q = patientKey();
	await a.append([
		grant(p, authorOf('clinic-a'), ['demographics', 'labs']),
		grant(p, authorOf('clinic-b'), ['labs']),
		grant(q, authorOf('clinic-a'), ['demographics'])
	]);
	const base = await blocksOf(a);
	const A = memberBook(a, 'clinic-a');
	const written = await A.write(labResult(p.id, MARKER), { now: NOW });
	const genuine = (await blocksOf(a)).find((b) => b.block.id === written.block)!;
	const put = genuine.block.txs.find((tx) => tx.t === 'record.put')!;
	const members = base.find((b) => b.block.txs.some((tx) => tx.t === 'member.add'))!.block;
	const context: RecordContext = { net: a.net, patient: p.id, category: 'labs', epoch: put.epoch as number };
	return {
		a,
		p,
		q,
		A,
		base,
		genuine,
		put,
		members,
		context,
		rid: written.rid,
		readers: [p.id, authorOf('clinic-a'), authorOf('clinic-b')]
	};
}
type Scene = Awaited<ReturnType<typeof scene>>;

/** A block by `label` (its first) whose parents are `deps`: its clock is theirs plus one. */
async function attackerBlock(s: Scene, label: string, deps: readonly Block[], txs: Tx[]) {
	const made = await makeBlock(testSigner(label), {
		net: s.a.net,
		deps: deps.map((d) => d.id as BlockId).sort(),
		clock: 1 + Math.max(...deps.map((d) => d.clock)),
		txs
	});
	return { bytes: made.bytes, block: made.block };
}

/** The attacks: early (clock before the genuine block), concurrent (same parents), late. */
async function attacks(s: Scene) {
	const { put, context, readers, p, q } = s;
	const same = { patient: put.patient!, category: 'labs', epoch: put.epoch!, kid: put.kid! };
	const early = await attackerBlock(
		s,
		'desk-a',
		[s.members],
		[
			{ t: 'key.wrap', ...same, wraps: junkWraps(readers, context) },
			// The same key id claimed for other patients, categories and epochs.
			{ t: 'key.wrap', ...same, category: 'demographics', wraps: junkWraps([p.id], { ...context, category: 'demographics' }) },
			{ t: 'key.wrap', ...same, patient: fromHex(q.id), wraps: junkWraps([q.id, p.id], { ...context, patient: q.id }) },
			{ t: 'key.wrap', ...same, epoch: (put.epoch as number) + 1, wraps: junkWraps(readers, { ...context, epoch: context.epoch + 1 }) },
			// The record id claimed for the same patient's demographics and for another patient (records written the old way, without a salt).
			{
				t: 'record.put',
				patient: put.patient!,
				category: 'demographics',
				epoch: 0,
				kid: put.kid!,
				rid: put.rid!,
				nonce: new Uint8Array(24),
				ct: new Uint8Array(40)
			},
			{
				t: 'record.put',
				patient: fromHex(q.id),
				category: 'demographics',
				epoch: 0,
				kid: put.kid!,
				rid: put.rid!,
				nonce: new Uint8Array(24),
				ct: new Uint8Array(40)
			}
		]
	);
	const parents = [s.genuine.block.prev, ...s.genuine.block.deps].map((id) => s.base.find((b) => b.block.id === id)!.block);
	const concurrent = await attackerBlock(s, 'bill-a', parents, [{ t: 'key.wrap', ...same, wraps: garbageWraps(readers) }]);
	const late = await attackerBlock(
		s,
		'clinic-c',
		[s.genuine.block],
		[
			{ t: 'key.wrap', ...same, wraps: junkWraps(readers, context) },
			{
				t: 'record.put',
				patient: fromHex(q.id),
				category: 'labs',
				epoch: 0,
				kid: put.kid!,
				rid: put.rid!,
				nonce: new Uint8Array(24),
				ct: new Uint8Array(40)
			}
		]
	);
	expect(early.block.clock).toBeLessThan(s.genuine.block.clock);
	expect(concurrent.block.clock).toBe(s.genuine.block.clock);
	expect(late.block.clock).toBeGreaterThan(s.genuine.block.clock);
	return [early, concurrent, late];
}

function permutations<T>(items: readonly T[]): T[][] {
	if (items.length <= 1) return [[...items]];
	return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}

/** What the patient's chart shows of record `rid`, opened with `keyring`. */
async function opened(ledger: Ledger, keyring: Keyring, patient: string, rid: string) {
	const chart = await new RecordBook(ledger, keyring).chart(patient, NOW);
	const record = chart.records.find((r) => r.rid === rid);
	return record?.versions.map((v) => (v.resource ? JSON.stringify(v.resource) : v.sealed));
}

describe('a bogus key.wrap or record.put cannot lock anyone out of a record', () => {
	it(
		'in every arrival order of the genuine block and early, concurrent and late attacks, the patient and both granted clinics open the record, and every node folds the same state',
		async () => {
			const s = await scene();
			const relevant = [s.genuine, ...(await attacks(s))];
			let reference: string | null = null;
			for (const order of permutations(relevant)) {
				const node = await joinNetwork(s.a.net, 'clinic-b', options);
				await node.receive(s.base.map((b) => b.bytes));
				for (const b of order) expect((await node.receive([b.bytes])).rejected).toEqual([]);
				expect(node.pendingCount).toBe(0);

				for (const [keyring, who] of [
					[new Keyring(s.p.id, encryptionSecretKey(s.p.seed)), 'patient'],
					[new Keyring(authorOf('clinic-a'), encryptionSecretKey(testSecret('clinic-a'))), 'clinic A'],
					[new Keyring(authorOf('clinic-b'), encryptionSecretKey(testSecret('clinic-b'))), 'clinic B']
				] as const) {
					const versions = await opened(node, keyring, s.p.id, s.rid);
					expect(versions, `${who}, order ${order.map((b) => b.block.author.slice(0, 6)).join(' ')}`).toHaveLength(1);
					expect(versions![0], who).toContain(MARKER);
				}
				// The other patient's chart does not hold the record.
				expect(await opened(node, new Keyring(s.q.id, encryptionSecretKey(s.q.seed)), s.q.id, s.rid)).toBeUndefined();

				const state = canonicalState({ records: node.state().records, access: await accessSnapshot(node) });
				reference ??= state;
				expect(state).toBe(reference);
			}
		},
		SLOW
	);

	it('a bogus wrap folded first never makes a granted clinic seal new data under its author’s key', async () => {
		const s = await scene();
		const junk = newDataKey();
		const same = { patient: s.put.patient!, category: 'labs', epoch: s.put.epoch!, kid: s.put.kid! };
		const early = await attackerBlock(s, 'desk-a', [s.members], [{ t: 'key.wrap', ...same, wraps: junkWraps(s.readers, s.context, junk) }]);
		const b = await joinNetwork(s.a.net, 'clinic-b', options);
		await syncInto(b, s.a);
		expect((await b.receive([early.bytes])).rejected).toEqual([]);
		const B = memberBook(b, 'clinic-b');
		const written = await B.write(labResult(s.p.id, 'MARKER-by-b'), { now: NOW });
		const block = (await blocksOf(b)).find((x) => x.block.id === written.block)!.block;
		const put = block.txs.find((tx) => tx.t === 'record.put')!;
		expect(() =>
			openRecord(
				junk,
				{ nonce: put.nonce as Uint8Array, ct: put.ct as Uint8Array },
				{ ...s.context, epoch: put.epoch as number, rid: written.rid }
			)
		).toThrow();
		// B reused the genuine key: the patient and A read B's record.
		expect((await opened(b, new Keyring(s.p.id, encryptionSecretKey(s.p.seed)), s.p.id, written.rid))![0]).toContain('MARKER-by-b');
		expect(
			(await opened(b, new Keyring(authorOf('clinic-a'), encryptionSecretKey(testSecret('clinic-a'))), s.p.id, written.rid))![0]
		).toContain('MARKER-by-b');
	});

	it('bogus wraps written for a new grantee before the key is shared do not stop a holder from sharing it', async () => {
		const s = await scene();
		await s.a.append([grant(s.p, authorOf('clinic-c'), ['labs'])]);
		const heads = (await blocksOf(s.a)).map((b) => b.block);
		const same = { patient: s.put.patient!, category: 'labs', epoch: s.put.epoch!, kid: s.put.kid! };
		for (const deps of [[s.members], [heads.at(-1)!]]) {
			const a = await joinNetwork(s.a.net, 'clinic-a', options);
			await syncInto(a, s.a);
			const attacker = deps[0] === s.members ? 'desk-a' : 'bill-a';
			const bogus = await attackerBlock(s, attacker, deps, [
				{ t: 'key.wrap', ...same, wraps: [...junkWraps([authorOf('clinic-c')], s.context), ...garbageWraps([authorOf('clinic-c')])] }
			]);
			expect((await a.receive([bogus.bytes])).rejected).toEqual([]);
			expect(await memberBook(a, 'clinic-a').shareKeys(NOW)).toBe(1);
			const c = await joinNetwork(s.a.net, 'clinic-c', options);
			await syncInto(c, a);
			expect(
				(await opened(c, new Keyring(authorOf('clinic-c'), encryptionSecretKey(testSecret('clinic-c'))), s.p.id, s.rid))![0]
			).toContain(MARKER);
			// Shared once: the wrap A wrote counts, so A owes nothing more.
			expect(await memberBook(a, 'clinic-a').shareKeys(NOW)).toBe(0);
		}
	});

	it('a granted reader’s junk wrap for a new grantee counts until the patient revokes that reader; then the key is shared', async () => {
		const s = await scene();
		const toE = grantWithId(s.p, authorOf('bill-a'), ['labs']);
		await s.a.append([toE.tx, grant(s.p, authorOf('clinic-c'), ['labs'])]);
		const same = { patient: s.put.patient!, category: 'labs', epoch: s.put.epoch!, kid: s.put.kid! };
		const junk = await attackerBlock(
			s,
			'bill-a',
			[(await blocksOf(s.a)).at(-1)!.block],
			[{ t: 'key.wrap', ...same, wraps: junkWraps([authorOf('clinic-c')], s.context) }]
		);
		expect((await s.a.receive([junk.bytes])).rejected).toEqual([]);
		const A = memberBook(s.a, 'clinic-a');
		// A shares with E (a grantee without a wrap), not with C: C's wrap is by a current reader.
		expect(await A.shareKeys(NOW)).toBe(1);
		await s.a.append([revokeGrantTx(s.p.id, toE.id, NOW + 1, signNoble(s.p.seed, revokeMessage(s.p.id, toE.id, NOW + 1)))]);
		expect(await A.shareKeys(NOW + 2)).toBe(1);
		const c = await joinNetwork(s.a.net, 'clinic-c', options);
		await syncInto(c, s.a);
		expect((await opened(c, memberBook(c, 'clinic-c').keyring, s.p.id, s.rid))![0]).toContain(MARKER);
	});

	it('only roles that can hold keys may write key.wrap; a committed record id cannot be claimed for another patient or category', async () => {
		const s = await scene();
		const res = await joinNetwork(s.a.net, 'res-a', options);
		await syncInto(res, s.a);
		const same = { patient: s.put.patient!, category: 'labs', epoch: s.put.epoch!, kid: s.put.kid! };
		await expect(res.append([{ t: 'key.wrap', ...same, wraps: junkWraps(s.readers, s.context) }])).rejects.toMatchObject({
			code: 'NOT_AUTHORIZED'
		});

		expect(s.put.salt).toBeInstanceOf(Uint8Array);
		const check = (tx: Tx) => recordPutRule.check(tx, { role: 'clinician' } as never);
		expect(check(s.put)).toBeNull();
		expect(check({ ...s.put, patient: fromHex(s.q.id) })).toMatch(/^rid: not the commitment/);
		expect(check({ ...s.put, category: 'encounters' })).toMatch(/^rid: not the commitment/);
		expect(check({ ...s.put, salt: new Uint8Array(16) })).toMatch(/^rid: not the commitment/);
		expect(check({ ...s.put, salt: new Uint8Array(15) })).toMatch(/^salt:/);
	});

	it(
		'records written before ids were commitments (random kid and rid, no salt) still open beside bogus wraps folded first and later puts claiming them; new data gets a committed key',
		async () => {
			const s = await scene();
			// What a node of the previous version wrote: a random key id and record id.
			const key = newDataKey();
			const kid = crypto.getRandomValues(new Uint8Array(16));
			const rid = crypto.getRandomValues(new Uint8Array(16));
			const sealed = sealRecord(key, encodeResource(labResult(s.p.id, 'MARKER-old')), { ...s.context, rid: toHex(rid) });
			const where = { patient: fromHex(s.p.id), category: 'labs', epoch: s.context.epoch, kid };
			const old = await attackerBlock(
				s,
				'clinic-b',
				[s.genuine.block],
				[
					{ t: 'key.wrap', ...where, wraps: junkWraps(s.readers, s.context, key) },
					{ t: 'record.put', ...where, rid, nonce: sealed.nonce, ct: sealed.ct }
				]
			);
			const early = await attackerBlock(s, 'desk-a', [s.members], [{ t: 'key.wrap', ...where, wraps: junkWraps(s.readers, s.context) }]);
			const late = await attackerBlock(
				s,
				'clinic-c',
				[old.block],
				[
					{
						t: 'record.put',
						patient: fromHex(s.q.id),
						category: 'demographics',
						epoch: 0,
						kid,
						rid,
						nonce: new Uint8Array(24),
						ct: new Uint8Array(40)
					}
				]
			);
			for (const order of permutations([old, early, late])) {
				const node = await joinNetwork(s.a.net, 'clinic-a', options);
				await syncInto(node, s.a);
				for (const b of order) expect((await node.receive([b.bytes])).rejected).toEqual([]);
				expect(node.pendingCount).toBe(0);
				for (const keyring of [
					new Keyring(s.p.id, encryptionSecretKey(s.p.seed)),
					memberBook(node, 'clinic-a').keyring,
					memberBook(node, 'clinic-b').keyring
				]) {
					expect((await opened(node, keyring, s.p.id, toHex(rid)))![0]).toContain('MARKER-old');
				}
				// A key of an old id is never reused to seal new data: it cannot be told from a bogus one without a record.
				const A = memberBook(node, 'clinic-a');
				const next = await A.write(labResult(s.p.id, 'MARKER-next'), { now: NOW });
				const put = (await blocksOf(node)).find((b) => b.block.id === next.block)!.block.txs.find((tx) => tx.t === 'record.put')!;
				expect(toHex(put.kid as Uint8Array)).not.toBe(toHex(kid));
				expect((await opened(node, new Keyring(s.p.id, encryptionSecretKey(s.p.seed)), s.p.id, next.rid))![0]).toContain('MARKER-next');
			}
		},
		SLOW
	);
});
