/**
 * Issue 16 item 4, study keys: an admin who does not hold a study's key writes bogus
 * `study.approve` wraps for the clinic members, with the clock it likes (by choosing
 * parents), before, beside or after the genuine approval. Whatever the order the blocks
 * arrive and fold in, every member the genuine approval wrapped the key for unwraps that
 * key, every node folds the same state, and an approver who saw only bogus wraps still
 * gives its clinic a key.
 */
import { describe, expect, it } from 'vitest';
import {
	decodeBlock,
	encodeCanonical,
	fromHex,
	toHex,
	type Block,
	type BlockId,
	type CborValue,
	type Ledger,
	type Tx
} from '$lib/core/index.js';
import { authorOf, foundNetwork, joinNetwork, makeBlock, syncInto, testSecret, testSigner } from '$lib/core/testing/fixtures.js';
import { APP_FOLDS, APP_INDEXES } from '$lib/domain/fold-registry.js';
import { APP_RULES } from '$lib/domain/rule-registry.js';
import { encryptionSecretKey, newDataKey, unwrapKey, wrapKey, type RecordContext } from '$lib/domain/privacy/envelope.js';
import { readResearch } from '$lib/domain/research/pages.js';
import { approvalWraps, studyKeyId, unwrapStudyKey } from '$lib/domain/research/keys.js';
import { approveStudyTx, registerStudyTx, type StudyInput } from '$lib/domain/research/study.js';

const T0 = 1_700_000_000_000;
const DAY = 86_400_000;
const options = { rules: APP_RULES, folds: APP_FOLDS, indexes: APP_INDEXES };
/** The permutation tests build dozens of ledgers: seconds on an idle machine, more with both cores busy. */
const SLOW = 120_000;
const input: StudyInput = {
	title: 'Extracts',
	protocol: 'Row-level extract of adults.',
	ethics: 'IRB-7',
	categories: ['labs'],
	criteria: 'Adults',
	ends: T0 + 365 * DAY,
	budget: 0,
	k: 5,
	rows: true
};
/** Clinic members the study key is for: two clinic admins and a clinician. */
const MEMBERS = ['clinic-a', 'clinic-b', 'doc-b'];

const researchOf = (l: Ledger) => readResearch(l);
const unwrapAs = (label: string) => (wrap: Parameters<typeof unwrapKey>[0], context: RecordContext) =>
	unwrapKey(wrap, authorOf(label), encryptionSecretKey(testSecret(label)), context);
const blocksOf = async (ledger: Ledger) =>
	(await ledger.store.ordered(null, 10_000)).map((s) => ({ bytes: s.bytes, block: decodeBlock(s.bytes) }));
type Stored = Awaited<ReturnType<typeof blocksOf>>[number];

/** The context the study key is wrapped in (keys.ts). */
const contextOf = (net: string, study: string): RecordContext => ({
	net,
	patient: `study-key/${study}`,
	category: 'demographics',
	epoch: 0
});

/** Wraps of a key the attacker made up (so they open), for each member; `kid` as given (or none, as approvals before key ids). */
function junkWraps(net: string, study: string, labels: readonly string[], kid?: Uint8Array): Record<string, CborValue> {
	const junk = newDataKey();
	return Object.fromEntries(
		labels.map((l) => [
			authorOf(l),
			{ ...wrapKey(junk, authorOf(l), fromHex(authorOf(l)), contextOf(net, study)), ...(kid ? { kid } : {}) }
		])
	);
}
/** Wraps that are not even well-formed ciphertext. */
function garbageWraps(labels: readonly string[], kid?: Uint8Array): Record<string, CborValue> {
	const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));
	return Object.fromEntries(
		labels.map((l) => [authorOf(l), { eph: random(32), nonce: random(24), wrapped: random(48), ...(kid ? { kid } : {}) }])
	);
}
const approve = (study: string, keys: Record<string, CborValue>): Tx => ({ t: 'study.approve', study: fromHex(study), keys });

function permutations<T>(items: readonly T[]): T[][] {
	if (items.length <= 1) return [[...items]];
	return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}

/**
 * A network with clinic admins A and B, clinician doc-b, a researcher and rogue admins;
 * the researcher registered a study (and wrote once more, so an approval that saw it
 * sorts two clocks after the registration).
 */
async function scene() {
	const a = await foundNetwork({
		...options,
		founder: 'clinic-a',
		members: {
			'clinic-b': 'admin',
			'doc-b': 'clinician',
			researcher: 'researcher',
			'rogue-1': 'admin',
			'rogue-2': 'admin',
			'rogue-3': 'admin'
		}
	});
	const researcher = await joinNetwork(a.net, 'researcher', options);
	await syncInto(researcher, a);
	const reg = registerStudyTx(input);
	await researcher.append([reg]);
	await researcher.append([registerStudyTx({ ...input, title: 'Another study' })]);
	await syncInto(a, researcher);
	const study = toHex(reg.id as Uint8Array);
	const base = await blocksOf(a);
	const registered = base.find(
		(b) => b.block.txs.includes(reg) || b.block.txs.some((tx) => tx.t === 'study.register' && toHex(tx.id as Uint8Array) === study)
	)!;
	return { a, study, base, registered };
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

/** A's genuine approval (a new key for every member) and the key it made. */
async function genuineApproval(s: Scene) {
	const before = (await researchOf(s.a)).studies[s.study]!;
	const block = await s.a.append([
		approveStudyTx(s.study, approvalWraps(before, s.a.net, authorOf('clinic-a'), unwrapAs('clinic-a'), MEMBERS.map(authorOf)))
	]);
	const key = unwrapStudyKey((await researchOf(s.a)).studies[s.study]!, s.a.net, authorOf('clinic-a'), unwrapAs('clinic-a'))!;
	expect(key).not.toBeNull();
	return { genuine: (await blocksOf(s.a)).find((b) => b.block.id === block.id)!, key };
}

describe('a bogus study.approve cannot lock a clinic member out of a study key', () => {
	it(
		'in every arrival order of the genuine approval and early, concurrent and late bogus ones, every member unwraps the genuine key and every node folds the same state',
		async () => {
			const s = await scene();
			const { genuine, key } = await genuineApproval(s);
			const kid = studyKeyId(key, s.a.net, s.study);
			const net = s.a.net;
			// Early: wraps in the old format (no key id), unreadable for the admins, a made-up key for the clinician.
			const early = await attackerBlock(
				s,
				'rogue-1',
				[s.registered.block],
				[approve(s.study, { ...garbageWraps(['clinic-a', 'clinic-b']), ...junkWraps(net, s.study, ['doc-b']) })]
			);
			const parents = [genuine.block.prev, ...genuine.block.deps].map((id) => s.base.find((b) => b.block.id === id)!.block);
			// Concurrent: a made-up key under the genuine key's id.
			const concurrent = await attackerBlock(s, 'rogue-2', parents, [approve(s.study, junkWraps(net, s.study, MEMBERS, kid))]);
			// Late: garbage under the genuine id, and a made-up key under an id that is not its commitment.
			const late = await attackerBlock(
				s,
				'rogue-3',
				[genuine.block],
				[
					approve(s.study, garbageWraps(['clinic-a'], kid)),
					approve(s.study, junkWraps(net, s.study, MEMBERS, crypto.getRandomValues(new Uint8Array(16))))
				]
			);
			expect(early.block.clock).toBeLessThan(genuine.block.clock);
			expect(concurrent.block.clock).toBe(genuine.block.clock);
			expect(late.block.clock).toBeGreaterThan(genuine.block.clock);

			let reference: string | null = null;
			for (const order of permutations([genuine, early, concurrent, late])) {
				const node = await joinNetwork(s.a.net, 'clinic-b', options);
				await node.receive(s.base.filter((b) => b.block.id !== genuine.block.id).map((b) => b.bytes));
				for (const b of order) expect((await node.receive([b.bytes])).rejected).toEqual([]);
				expect(node.pendingCount).toBe(0);
				const study = (await researchOf(node)).studies[s.study]!;
				const label = order.map((b) => b.block.author.slice(0, 6)).join(' ');
				for (const member of MEMBERS)
					expect(unwrapStudyKey(study, net, authorOf(member), unwrapAs(member)), `${member}, order ${label}`).toEqual(key);
				expect(unwrapStudyKey(study, net, authorOf('researcher'), unwrapAs('researcher'))).toBeNull();
				const state = toHex(encodeCanonical((await researchOf(node)) as unknown as CborValue));
				reference ??= state;
				expect(state, label).toBe(reference);
			}
		},
		SLOW
	);

	it(
		'an admin who approves after seeing only bogus wraps for itself still gives its clinic a key, and shares the key it holds when it holds one',
		async () => {
			const s = await scene();
			const net = s.a.net;
			// A rogue approval ahead of any genuine one: nothing in it opens for anyone.
			const early = await attackerBlock(s, 'rogue-1', [s.registered.block], [approve(s.study, garbageWraps(MEMBERS))]);
			const b = await joinNetwork(net, 'clinic-b', options);
			await syncInto(b, s.a);
			expect((await b.receive([early.bytes])).rejected).toEqual([]);
			const seen = (await researchOf(b)).studies[s.study]!;
			const wraps = approvalWraps(seen, net, authorOf('clinic-b'), unwrapAs('clinic-b'), MEMBERS.map(authorOf));
			expect(Object.keys(wraps).sort()).toEqual(MEMBERS.map(authorOf).sort());
			await b.append([approveStudyTx(s.study, wraps)]);
			const study = (await researchOf(b)).studies[s.study]!;
			const keyB = unwrapStudyKey(study, net, authorOf('clinic-b'), unwrapAs('clinic-b'));
			expect(keyB).not.toBeNull();
			for (const member of MEMBERS) expect(unwrapStudyKey(study, net, authorOf(member), unwrapAs(member)), member).toEqual(keyB);

			// A rogue's wraps of the genuine key id for a member who joined later do not stop B sharing it with them.
			await b.append([{ t: 'member.add', key: fromHex(authorOf('doc-c')), role: 'clinician' }]);
			const kid = studyKeyId(keyB!, net, s.study);
			const junk = await attackerBlock(
				s,
				'rogue-2',
				[(await blocksOf(b)).at(-1)!.block],
				[approve(s.study, { ...junkWraps(net, s.study, ['doc-c'], kid) })]
			);
			expect((await b.receive([junk.bytes])).rejected).toEqual([]);
			const again = approvalWraps(
				(await researchOf(b)).studies[s.study]!,
				net,
				authorOf('clinic-b'),
				unwrapAs('clinic-b'),
				[...MEMBERS, 'doc-c'].map(authorOf)
			);
			expect(Object.keys(again)).toEqual([authorOf('doc-c')]);
			await b.append([approveStudyTx(s.study, again)]);
			expect(unwrapStudyKey((await researchOf(b)).studies[s.study]!, net, authorOf('doc-c'), unwrapAs('doc-c'))).toEqual(keyB);
		},
		SLOW
	);

	it(
		'study keys of approvals written before key ids still open, beside bogus ones in every order; a later approver passes the same key on with its id',
		async () => {
			const s = await scene();
			const net = s.a.net;
			// What a node of the previous version wrote: the key wrapped without a key id.
			const key = newDataKey();
			const old = await attackerBlock(
				s,
				'clinic-b',
				[s.registered.block, s.base.at(-1)!.block],
				[
					approve(
						s.study,
						Object.fromEntries(
							MEMBERS.map((l) => [authorOf(l), { ...wrapKey(key, authorOf(l), fromHex(authorOf(l)), contextOf(net, s.study)) }])
						)
					)
				]
			);
			const early = await attackerBlock(s, 'rogue-1', [s.registered.block], [approve(s.study, garbageWraps(MEMBERS))]);
			const late = await attackerBlock(s, 'rogue-2', [old.block], [approve(s.study, garbageWraps(MEMBERS))]);
			for (const order of permutations([old, early, late])) {
				const node = await joinNetwork(net, 'clinic-a', options);
				await syncInto(node, s.a);
				for (const b of order) expect((await node.receive([b.bytes])).rejected).toEqual([]);
				const study = (await researchOf(node)).studies[s.study]!;
				for (const member of MEMBERS) expect(unwrapStudyKey(study, net, authorOf(member), unwrapAs(member)), member).toEqual(key);
			}
			// A later approver shares the old key (not a new one), now under its commitment.
			const node = await joinNetwork(net, 'clinic-a', options);
			await syncInto(node, s.a);
			await node.receive([old.bytes, early.bytes]);
			const wraps = approvalWraps(
				(await researchOf(node)).studies[s.study]!,
				net,
				authorOf('clinic-a'),
				unwrapAs('clinic-a'),
				MEMBERS.map(authorOf)
			);
			expect(Object.keys(wraps).length).toBeGreaterThan(0);
			for (const w of Object.values(wraps)) expect(w.kid).toEqual(studyKeyId(key, net, s.study));
		},
		SLOW
	);

	it('only admins approve; a key id must be 16 bytes', async () => {
		const s = await scene();
		const doc = await joinNetwork(s.a.net, 'doc-b', options);
		await syncInto(doc, s.a);
		await expect(doc.append([approve(s.study, garbageWraps(['doc-b']))])).rejects.toMatchObject({ code: 'NOT_AUTHORIZED' });
		await expect(s.a.append([approve(s.study, garbageWraps(['doc-b'], new Uint8Array(15)))])).rejects.toMatchObject({
			code: 'TX_INVALID',
			message: expect.stringMatching(/kid/)
		});
	});
});
