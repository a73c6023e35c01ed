/**
 * Issue 16 item 4, amendments: a member writes a `record.put` with an existing record id
 * (an "amendment") that is junk, or that opens under a key of its own, with the clock it
 * likes (by choosing parents), before, beside or after the genuine amendment. Whatever
 * the order the blocks arrive in, the chart, the registry and everything reading a
 * record's current version show the newest genuine version, and every node folds the
 * same state.
 */
import { accessSnapshot, allAccess } from '../../support/access.js';
import { describe, expect, it } from 'vitest';
import { canonicalState } from '../../support/canonical-state.js';
import { decodeBlock, fromHex, toHex, type Block, type BlockId, type CborValue, type Ledger, type Tx } from '$lib/core/index.js';
import { signNoble } from '$lib/core/crypto/ed25519.js';
import { authorOf, fixedNow, foundNetwork, joinNetwork, makeBlock, testSecret, testSigner } from '$lib/core/testing/fixtures.js';
import { APP_FOLDS, APP_INDEXES } from '$lib/domain/fold-registry.js';
import { APP_RULES } from '$lib/domain/rule-registry.js';
import { revokeGrantTx, revokeMessage } from '$lib/domain/privacy/consent.js';
import {
	dataKeyId,
	encryptionSecretKey,
	newDataKey,
	sealRecord,
	wrapKeyFor,
	type Category,
	type RecordContext
} from '$lib/domain/privacy/envelope.js';
import { RecordBook } from '$lib/domain/records/book.js';
import { encodeResource, type ClinicalResource } from '$lib/domain/records/fhir.js';
import { Keyring } from '$lib/domain/records/keyring.js';
import { readablePatients } from '$lib/domain/research/source.js';
import { grant, labResult, patientKey } from '../../support/patients.js';

const NOW = fixedNow();
const options = { rules: APP_RULES, folds: APP_FOLDS, indexes: APP_INDEXES };
/** The permutation tests build dozens of ledgers: seconds on an idle machine, more with both cores busy. */
const SLOW = 120_000;

const keyringOf = (label: string) => new Keyring(authorOf(label), encryptionSecretKey(testSecret(label)));
const bookOf = (ledger: Ledger, label: string) => new RecordBook(ledger, keyringOf(label));
const blocksOf = async (ledger: Ledger) =>
	(await ledger.store.ordered(null, 10_000)).map((s) => ({ bytes: s.bytes, block: decodeBlock(s.bytes) }));
type Stored = Awaited<ReturnType<typeof blocksOf>>[number];

const demographics = (patient: string, family: string): ClinicalResource => ({
	resourceType: 'Patient',
	id: patient,
	name: [{ family, given: ['Ada'] }],
	gender: 'female',
	birthDate: '1980-02-03'
});

function permutations<T>(items: readonly T[]): T[][] {
	if (items.length <= 1) return [[...items]];
	return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}

/**
 * Clinic A wrote patient P's lab result and demographics; P granted A and clinic B labs,
 * and A demographics. Clinicians C and D have no grant.
 */
async function scene() {
	const a = await foundNetwork({
		...options,
		founder: 'clinic-a',
		members: { 'clinic-b': 'clinician', 'clinic-c': 'clinician', 'clinic-d': 'clinician' }
	});
	const p = patientKey();
	await a.append([grant(p, authorOf('clinic-a'), ['demographics', 'labs']), grant(p, authorOf('clinic-b'), ['labs'])]);
	const A = bookOf(a, 'clinic-a');
	const lab = await A.write(labResult(p.id, 'MARKER-v1'), { now: NOW });
	const person = await A.write(demographics(p.id, 'Genuine'), { now: NOW });
	const base = await blocksOf(a);
	const put = (written: { block: string }) =>
		base.find((b) => b.block.id === written.block)!.block.txs.find((tx) => tx.t === 'record.put')!;
	return {
		a,
		p,
		base,
		lab: { ...lab, put: put(lab) },
		person: { ...person, put: put(person) },
		members: base.find((b) => b.block.txs.some((tx) => tx.t === 'member.add'))!.block
	};
}
type Scene = Awaited<ReturnType<typeof scene>>;

/** A block by `label` (its first) whose parents are `deps`: its clock is theirs plus one. */
async function attackerBlock(s: Scene, label: string, deps: readonly Block[], txs: Tx[]): Promise<Stored> {
	const made = await makeBlock(testSigner(label), {
		net: s.a.net,
		deps: deps.map((d) => d.id as BlockId).sort(),
		clock: 1 + Math.max(...deps.map((d) => d.clock)),
		txs
	});
	return { bytes: made.bytes, block: made.block };
}

/** An amendment of `put` whose ciphertext is junk: same record id, salt, key id and epoch. */
const junkAmendment = (put: Tx): Tx => ({
	...put,
	nonce: crypto.getRandomValues(new Uint8Array(24)),
	ct: crypto.getRandomValues(new Uint8Array(200))
});

/** An amendment of `put` sealed under a key its writer made, with that key (committed id) wrapped for `readers`: it opens. */
function ownKeyAmendment(net: string, put: Tx, resource: ClinicalResource, readers: readonly string[]): Tx[] {
	const context: RecordContext = {
		net,
		patient: toHex(put.patient as Uint8Array),
		category: put.category as Category,
		epoch: put.epoch as number
	};
	const key = newDataKey();
	const kid = dataKeyId(key, context);
	const sealed = sealRecord(key, encodeResource(resource), { ...context, rid: toHex(put.rid as Uint8Array) });
	const wraps: Record<string, CborValue>[] = wrapKeyFor(
		key,
		readers.map((reader) => ({ reader, publicKey: fromHex(reader) })),
		context
	).map((w, i) => ({ reader: fromHex(readers[i]!), eph: w.eph, nonce: w.nonce, wrapped: w.wrapped }));
	return [
		{ t: 'key.wrap', patient: put.patient!, category: put.category!, epoch: put.epoch!, kid, wraps },
		{ ...put, kid, nonce: sealed.nonce, ct: sealed.ct }
	];
}

/** What `keyring` sees of record `rid` in `patient`'s chart: the current version's text and the set-aside versions' authors. */
async function seen(ledger: Ledger, keyring: Keyring, patient: string, rid: string) {
	const record = (await new RecordBook(ledger, keyring).chart(patient, NOW)).records.find((r) => r.rid === rid)!;
	const current = record.versions.at(-1)!;
	return {
		current: current.resource ? JSON.stringify(current.resource) : current.sealed,
		counted: record.versions.length,
		setAside: record.setAside.map((v) => v.author).sort()
	};
}

describe('a junk or forged amendment never becomes a record’s current version', () => {
	it(
		'in every arrival order of the genuine amendment and early, concurrent and late bogus ones, every reader sees the genuine amendment as current, and every node folds the same state',
		async () => {
			const s = await scene();
			// The genuine amendment by A, on a node that saw the original.
			const writer = await joinNetwork(s.a.net, 'clinic-a', options);
			await writer.receive(s.base.map((b) => b.bytes));
			const amended = await bookOf(writer, 'clinic-a').write(labResult(s.p.id, 'MARKER-v2'), {
				rid: s.lab.rid,
				prev: s.lab.block,
				now: NOW
			});
			const genuine = (await blocksOf(writer)).find((b) => b.block.id === amended.block)!;
			const original = s.base.find((b) => b.block.id === s.lab.block)!.block;
			const readers = [s.p.id, authorOf('clinic-a'), authorOf('clinic-b')];
			// Early (ordered before even the original): junk by C, who holds no key.
			const early = await attackerBlock(s, 'clinic-c', [s.members], [junkAmendment(s.lab.put)]);
			// Concurrent with the genuine amendment: B, a granted reader, writes junk.
			const parents = [genuine.block.prev, ...genuine.block.deps].map((id) => s.base.find((b) => b.block.id === id)!.block);
			const concurrent = await attackerBlock(s, 'clinic-b', parents, [junkAmendment(s.lab.put)]);
			// Late: D, without a grant, writes versions that open, under keys of its own wrapped for every reader.
			const late = await attackerBlock(
				s,
				'clinic-d',
				[genuine.block],
				[
					...ownKeyAmendment(s.a.net, s.lab.put, labResult(s.p.id, 'MARKER-forged'), readers),
					...ownKeyAmendment(s.a.net, s.person.put, demographics(s.p.id, 'Forged'), [s.p.id, authorOf('clinic-a')])
				]
			);
			expect(early.block.clock).toBeLessThan(original.clock);
			expect(concurrent.block.clock).toBe(genuine.block.clock);
			expect(late.block.clock).toBeGreaterThan(genuine.block.clock);

			let reference: string | null = null;
			for (const order of permutations([genuine, early, concurrent, late])) {
				const label = order.map((b) => b.block.author.slice(0, 6)).join(' ');
				const node = await joinNetwork(s.a.net, 'clinic-b', options);
				await node.receive(s.base.map((b) => b.bytes));
				for (const b of order) expect((await node.receive([b.bytes])).rejected, label).toEqual([]);
				expect(node.pendingCount).toBe(0);
				for (const [who, keyring] of [
					['patient', new Keyring(s.p.id, encryptionSecretKey(s.p.seed))],
					['clinic A', keyringOf('clinic-a')],
					['clinic B', keyringOf('clinic-b')]
				] as const) {
					const lab = await seen(node, keyring, s.p.id, s.lab.rid);
					expect(lab.current, `${who}, order ${label}`).toContain('MARKER-v2');
					expect(lab.counted, who).toBe(2);
					expect(lab.setAside, who).toEqual([authorOf('clinic-b'), authorOf('clinic-c'), authorOf('clinic-d')].sort());
					if (who === 'clinic B') continue;
					expect((await seen(node, keyring, s.p.id, s.person.rid)).current, who).toContain('Genuine');
					const registry = await new RecordBook(node, keyring).demographics(NOW);
					expect(JSON.stringify(registry.get(s.p.id)), who).toContain('Genuine');
				}
				// What a study answer reads is the current version too.
				const { patients } = await readablePatients(bookOf(node, 'clinic-a'), [s.p.id], ['labs'], NOW);
				expect(JSON.stringify(patients)).toContain('MARKER-v2');
				expect(JSON.stringify(patients)).not.toContain('MARKER-forged');
				// A node without the key cannot tell junk, but sets aside what members who may not write this category wrote.
				expect((await seen(node, keyringOf('clinic-c'), s.p.id, s.lab.rid)).setAside).toEqual(
					[authorOf('clinic-c'), authorOf('clinic-d')].sort()
				);

				const state = canonicalState({ records: node.state().records, access: await accessSnapshot(node) });
				reference ??= state;
				expect(state, label).toBe(reference);
			}
		},
		SLOW
	);

	it('a version stays current after its writer’s grant is revoked; a record whose every version was set aside still shows them', async () => {
		const s = await scene();
		const amended = await bookOf(s.a, 'clinic-a').write(labResult(s.p.id, 'MARKER-v2'), { rid: s.lab.rid, prev: s.lab.block, now: NOW });
		const grantA = (await allAccess(s.a)).grantsOf(s.p.id).find((g) => g.grantee === authorOf('clinic-a'))!;
		await s.a.append([revokeGrantTx(s.p.id, grantA.id, NOW + 1, signNoble(s.p.seed, revokeMessage(s.p.id, grantA.id, NOW + 1)))]);
		const patient = new Keyring(s.p.id, encryptionSecretKey(s.p.seed));
		const lab = await seen(s.a, patient, s.p.id, s.lab.rid);
		expect(lab.current).toContain('MARKER-v2');
		expect(lab.setAside).toEqual([]);
		expect(amended.rid).toBe(s.lab.rid);

		// A record C made up for P: nothing in it counts, so the chart shows it as it is rather than hiding it.
		const unsalted = Object.fromEntries(Object.entries(s.lab.put).filter(([field]) => field !== 'salt')) as Tx;
		const made = await attackerBlock(
			s,
			'clinic-c',
			[s.members],
			ownKeyAmendment(s.a.net, { ...unsalted, rid: crypto.getRandomValues(new Uint8Array(16)) }, labResult(s.p.id, 'MARKER-made-up'), [
				s.p.id
			])
		);
		expect((await s.a.receive([made.bytes])).rejected).toEqual([]);
		const rid = toHex(made.block.txs[1]!.rid as Uint8Array);
		const view = await seen(s.a, patient, s.p.id, rid);
		expect(view.counted).toBe(1);
		expect(view.setAside).toEqual([]);
	});

	it('a Patient record made up by a member who may not write demographics, ordered first, does not name the patient in the registry', async () => {
		const s = await scene();
		const unsalted = Object.fromEntries(Object.entries(s.person.put).filter(([field]) => field !== 'salt')) as Tx;
		const made = await attackerBlock(
			s,
			'clinic-c',
			[s.members],
			ownKeyAmendment(s.a.net, { ...unsalted, rid: crypto.getRandomValues(new Uint8Array(16)) }, demographics(s.p.id, 'Forged'), [
				s.p.id,
				authorOf('clinic-a')
			])
		);
		expect(made.block.clock).toBeLessThan(s.base.find((b) => b.block.id === s.person.block)!.block.clock);
		for (const order of [
			[made, ...s.base],
			[...s.base, made]
		]) {
			const node = await joinNetwork(s.a.net, 'clinic-a', options);
			for (const b of order) await node.receive([b.bytes]);
			expect(node.pendingCount).toBe(0);
			for (const keyring of [new Keyring(s.p.id, encryptionSecretKey(s.p.seed)), keyringOf('clinic-a')])
				expect(JSON.stringify((await new RecordBook(node, keyring).demographics(NOW)).get(s.p.id))).toContain('Genuine');
		}
	});
});
