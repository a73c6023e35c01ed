// Consent kept in the store by patient (privacy/access.ts): the index rows of random ledgers
// of grants and revocations, put in the store in every arrival order tried, read back as
// each patient's access, equal a fold of the whole ledger in ledger order (written out below
// as the reference: the in-memory fold it replaced, with grants held per patient): grants
// whose ids collide within a patient (the first in ledger order counts) and across patients
// (each patient's own counts), revocations before their grant, of another patient's grant,
// twice; epochs; who may read and who receives keys. A read answers only for the patients
// it was read for.
import { describe, expect, it } from 'vitest';
import { factRows, generateSecretKey, publicKeyOf, toHex, type Block, type FactRow, type Tx } from '$lib/core/index.js';
import { signNoble } from '$lib/core/crypto/ed25519.js';
import { FactTable } from '$lib/core/storage/fact-table.js';
import { prng } from '$lib/core/testing/prng.js';
import {
	CONSENTS,
	consentsIndex,
	mayRead,
	readAccess,
	sealingReaders,
	type ConsentReader,
	type HeldGrant
} from '$lib/domain/privacy/access.js';
import { grantMessage, grantOf, grantsFor, grantTx, readersFor, revokeGrantTx, type Grant } from '$lib/domain/privacy/consent.js';
import { CATEGORIES } from '$lib/domain/privacy/envelope.js';
import { shuffled } from '../../support/arrival-orders.js';
import { inOrder, unsignedBlock } from '../../support/keyed-by-hand.js';

const people = Array.from({ length: 5 }, () => {
	const seed = generateSecretKey();
	return { seed, id: toHex(publicKeyOf(seed)) };
});
const NOW = 1_720_000_000_000;

/** Blocks of grants (ids from a small space, so they collide within and across patients) and revocations, at random clocks. */
function consentLedger(seed: number, blocks = 60): Block[] {
	const random = prng(seed);
	const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
	const out: Block[] = [];
	for (let n = 0; n < blocks; n++) {
		const txs: Tx[] = [];
		for (let t = 0; t < 1 + Math.floor(random() * 3); t++) {
			const patient = pick(people);
			const id = Math.floor(random() * 12)
				.toString(16)
				.padStart(32, '0');
			if (random() < 0.6) {
				const grant: Grant = {
					id,
					patient: patient.id,
					grantee: pick(people).id,
					categories: [pick(CATEGORIES), pick(CATEGORIES)].filter((c, i, all) => all.indexOf(c) === i),
					purpose: pick(['treatment', 'research', 'payment'] as const),
					expires: NOW + (random() < 0.2 ? -1 : 1) * 86_400_000,
					issued: NOW - 2 * 86_400_000
				};
				txs.push(grantTx(grant, signNoble(patient.seed, grantMessage(grant))));
			}
			// The rule checks a revocation's signature; the index trusts it: any 64 bytes do here.
			if (random() < 0.5) txs.push(revokeGrantTx(random() < 0.8 ? patient.id : pick(people).id, id, NOW, new Uint8Array(64)));
		}
		if (random() < 0.05) txs.push({ t: 'consent.grant', grant: new Uint8Array([0xff]), sig: new Uint8Array(64) }); // does not parse
		out.push(
			unsignedBlock(`consent/${seed}/${n}`, { author: people[n % 5]!.id, seq: n, clock: 1 + Math.floor(random() * 40), time: NOW, txs })
		);
	}
	return inOrder(out);
}

/** The in-memory access fold this index replaced, grants held per patient, folded in ledger order: the reference. */
function reference(blocks: readonly Block[]): { grants: Map<string, HeldGrant>; epochs: Map<string, number> } {
	const grants = new Map<string, HeldGrant>();
	const epochs = new Map<string, number>();
	for (const block of inOrder(blocks))
		for (const tx of block.txs) {
			if (tx.t === 'consent.grant') {
				let grant: Grant;
				try {
					grant = grantOf(tx);
				} catch {
					continue;
				}
				const key = `${grant.patient}/${grant.id}`;
				if (!grants.has(key)) grants.set(key, { ...grant, revoked: false, block: block.id });
			} else if (tx.t === 'consent.revoke') {
				const grant = grants.get(`${toHex(tx.patient as Uint8Array)}/${toHex(tx.id as Uint8Array)}`);
				if (!grant || grant.revoked) continue;
				grant.revoked = true;
				for (const c of grant.categories) epochs.set(`${grant.patient}/${c}`, (epochs.get(`${grant.patient}/${c}`) ?? 0) + 1);
			}
		}
	return { grants, epochs };
}

/** A store's fact rows, put in the order the blocks arrived in (the memory store's table). */
function storeOf(arrivals: readonly Block[]): ConsentReader & { reads: number } {
	const table = new FactTable();
	for (const block of arrivals) for (const row of factRows(consentsIndex, block)) table.put(row);
	const reader = {
		reads: 0,
		factsOfKeys: async (fold: string, keys: readonly string[]): Promise<FactRow[][]> => {
			reader.reads++;
			return keys.map((key) => table.rows(fold, key, null, Number.MAX_SAFE_INTEGER));
		}
	};
	return reader;
}

describe('consent kept by patient in the store', () => {
	it('reads, in every arrival order, what a fold of the whole ledger in order decides', async () => {
		let collided = 0;
		let shared = 0;
		let revoked = 0;
		for (let seed = 1; seed <= 12; seed++) {
			const blocks = consentLedger(seed);
			const want = reference(blocks);
			const all = [...want.grants.values()];
			// The ledgers hold what the index must get right: ids reused within a patient and across patients.
			const grantTxs = blocks.flatMap((b) => b.txs.filter((t) => t.t === 'consent.grant').map((t) => t.grant));
			collided += grantTxs.length - want.grants.size;
			const owners = new Map<string, Set<string>>();
			for (const g of all) owners.set(g.id, (owners.get(g.id) ?? new Set()).add(g.patient));
			shared += [...owners.values()].filter((o) => o.size > 1).length;
			revoked += all.filter((g) => g.revoked).length;
			for (let order = 0; order < 4; order++) {
				const arrivals = order === 0 ? blocks : shuffled(blocks, prng(1000 * seed + order));
				const access = await readAccess(
					storeOf(arrivals),
					people.map((p) => p.id)
				);
				for (const patient of people) {
					const expected = all.filter((g) => g.patient === patient.id).sort((a, b) => (a.id < b.id ? -1 : 1));
					expect(access.grantsOf(patient.id), `seed ${seed} order ${order}`).toEqual(expected);
					for (const category of CATEGORIES) {
						expect(access.epoch(patient.id, category)).toBe(want.epochs.get(`${patient.id}/${category}`) ?? 0);
						expect(sealingReaders(access, patient.id, category, NOW)).toEqual(readersFor(all, patient.id, category, NOW));
						for (const reader of people)
							expect(mayRead(access, reader.id, patient.id, category, NOW)).toBe(
								reader.id === patient.id || grantsFor(all, reader.id, patient.id, category, NOW).length > 0
							);
					}
				}
			}
		}
		expect(collided).toBeGreaterThan(20);
		expect(shared).toBeGreaterThan(10);
		expect(revoked).toBeGreaterThan(10);
	});

	it('answers for the patients read, and throws for any other', async () => {
		const blocks = consentLedger(7);
		const want = reference(blocks);
		const store = storeOf(blocks);
		const [one, two] = people;
		const access = await readAccess(store, [one!.id, one!.id]);
		expect([...access.patients()]).toEqual([one!.id]);
		expect(access.grantsOf(one!.id)).toEqual(
			[...want.grants.values()].filter((g) => g.patient === one!.id).sort((a, b) => (a.id < b.id ? -1 : 1))
		);
		expect(() => access.grantsOf(two!.id)).toThrow(expect.objectContaining({ code: 'ACCESS_NOT_READ' }));
		expect(() => access.epoch(two!.id, 'labs')).toThrow(expect.objectContaining({ code: 'ACCESS_NOT_READ' }));
		// A patient nobody granted anything reads as no grants, not as unread.
		const stranger = 'ab'.repeat(32);
		expect((await readAccess(store, [stranger])).grantsOf(stranger)).toEqual([]);
	});

	it('files a grant under its patient, a revocation under the patient it names; a grant that does not parse or is not signed by its patient, nowhere', () => {
		const [patient, grantee] = people;
		const grant: Grant = {
			id: '0f'.repeat(16),
			patient: patient!.id,
			grantee: grantee!.id,
			categories: ['labs'],
			purpose: 'treatment',
			expires: NOW + 1,
			issued: NOW
		};
		const block = unsignedBlock('filed', {
			author: grantee!.id,
			seq: 1,
			clock: 3,
			time: NOW,
			txs: [
				{ t: 'consent.grant', grant: new Uint8Array([1, 2]), sig: new Uint8Array(64) },
				grantTx(grant, signNoble(patient!.seed, grantMessage(grant))),
				grantTx({ ...grant, id: '1f'.repeat(16) }, new Uint8Array(64)), // a forged signature: no row
				revokeGrantTx(grantee!.id, grant.id, NOW, new Uint8Array(64))
			]
		});
		expect(factRows(consentsIndex, block).map((r) => [r.fold, r.key, r.n])).toEqual([
			[CONSENTS, patient!.id, 0],
			[CONSENTS, grantee!.id, 1]
		]);
	});

	it('a grant another patient key signs under a patient’s grant id takes nothing from the patient, ordered before it or after', async () => {
		const [patient, intruder, clinic] = people;
		const grant = (who: typeof patient, grantee: string): Tx => {
			const g: Grant = {
				id: '5a'.repeat(16),
				patient: who!.id,
				grantee,
				categories: ['labs'],
				purpose: 'treatment',
				expires: NOW + 1,
				issued: NOW
			};
			return grantTx(g, signNoble(who!.seed, grantMessage(g)));
		};
		for (const intruderClock of [1, 9]) {
			const blocks = [
				unsignedBlock(`own/${intruderClock}`, { author: clinic!.id, seq: 0, clock: 5, time: NOW, txs: [grant(patient, clinic!.id)] }),
				unsignedBlock(`intruder/${intruderClock}`, {
					author: intruder!.id,
					seq: 0,
					clock: intruderClock,
					time: NOW,
					txs: [grant(intruder, intruder!.id), revokeGrantTx(intruder!.id, '5a'.repeat(16), NOW, new Uint8Array(64))]
				})
			];
			const access = await readAccess(storeOf(blocks), [patient!.id, intruder!.id]);
			expect(mayRead(access, clinic!.id, patient!.id, 'labs', NOW)).toBe(true);
			expect(access.grantsOf(patient!.id).map((g) => [g.grantee, g.revoked])).toEqual([[clinic!.id, false]]);
			expect(access.epoch(patient!.id, 'labs')).toBe(0);
			expect(access.grantsOf(intruder!.id).map((g) => g.revoked)).toEqual([true]);
		}
	});
});
