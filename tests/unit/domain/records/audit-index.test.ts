// The patients' audit trails as an index fold (audit-index.ts): the trail a patient reads,
// a page at a time, newest first, is the same on every node whatever order the blocks came
// in, holds exactly the rows of the blocks that count, and keeps the first of two requests
// under one id (the ledger order decides, across patients too).
import { describe, expect, it } from 'vitest';
import { fromHex, generateSecretKey, publicKeyOf, toHex, type Ledger, type Tx } from '$lib/core/index.js';
import { authorOf, fixedNow, foundNetwork, joinNetwork, syncInto, testSecret } from '$lib/core/testing/fixtures.js';
import { prng } from '$lib/core/testing/prng.js';
import { APP_FOLDS, APP_INDEXES } from '$lib/domain/fold-registry.js';
import { APP_RULES } from '$lib/domain/rule-registry.js';
import { encryptionSecretKey } from '$lib/domain/privacy/envelope.js';
import { auditIndex, auditPage, type AuditEvent } from '$lib/domain/records/audit-index.js';
import { accessLogTx, RecordBook } from '$lib/domain/records/book.js';
import { Keyring } from '$lib/domain/records/keyring.js';
import { repair, shuffled } from '../../support/arrival-orders.js';
import { unsignedBlock } from '../../support/keyed-by-hand.js';
import { expectedIndex, indexDump } from '../../support/test-index.js';

const options = { rules: APP_RULES, folds: APP_FOLDS, indexes: APP_INDEXES };
const NOW = fixedNow();
const patient = () => toHex(publicKeyOf(generateSecretKey()));

const request = (id: number, who: string, reason: string): Tx => ({
	t: 'access.request',
	id: fromHex(id.toString(16).padStart(32, '0')),
	patient: fromHex(who),
	categories: ['labs'],
	reason,
	purpose: 'treatment'
});

/** The whole trail, read `page` events at a time. */
async function trail(node: Ledger, who: string, page: number): Promise<AuditEvent[]> {
	const out: AuditEvent[] = [];
	let next = await auditPage(node, who, page);
	out.push(...next.events);
	while (next.next) {
		next = await auditPage(node, who, page, next.next);
		out.push(...next.events);
	}
	return out;
}

describe('audit trails as an index fold', () => {
	it('reads the same trail, page by page, on nodes that got the blocks in any order', async () => {
		const a = await foundNetwork({ ...options, founder: 'clinic-a', members: { 'clinic-b': 'clinician' } });
		const b = await joinNetwork(a.net, 'clinic-b', options);
		await syncInto(b, a);
		const [p, q] = [patient(), patient()];
		const book = new RecordBook(a, new Keyring(authorOf('clinic-a'), encryptionSecretKey(testSecret('clinic-a'))));
		await a.append([request(1, p, 'first ask')]);
		await syncInto(b, a);
		// b asks again under the same id, for p and for q: only the first in ledger order counts.
		await b.append([request(1, p, 'asked again')]);
		await b.append([request(1, q, 'same id, other patient'), request(2, q, 'own id')]);
		for (let i = 0; i < 7; i++) await b.append([accessLogTx([{ patient: p, category: 'labs', action: 'read', at: NOW + i }])]);
		await syncInto(a, b);
		await book.shareKeys(NOW);

		const all: Uint8Array[] = [];
		for await (const block of a.blocks()) all.push(block.bytes);
		const reference = await trail(a, p, 1000);
		expect(reference.filter((e) => e.kind === 'request').map((e) => e.detail)).toEqual(['first ask']);
		expect(reference.filter((e) => e.kind === 'read')).toHaveLength(7);
		expect((await trail(a, q, 1000)).map((e) => e.detail)).toEqual(['own id']);
		// Newest first.
		expect(reference.map((e) => e.at)).toEqual([...reference.map((e) => e.at)].sort((x, y) => y - x));

		const random = prng(19);
		for (let run = 0; run < 6; run++) {
			const node = await joinNetwork(a.net, `node-${run}`, options);
			for (const bytes of shuffled(all, random)) await node.receive([bytes]);
			await repair(node, all);
			expect(await trail(node, p, 1 + run)).toEqual(reference);
			expect(await indexDump(node, auditIndex.name)).toEqual(await expectedIndex(node, auditIndex));
		}
	});

	it("a block's record writes are one event per patient, where its first write is, naming every record in order", () => {
		const random = prng(23);
		const patients = [patient(), patient(), patient()];
		const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
		for (let run = 0; run < 200; run++) {
			// A block of 1-40 transactions: record writes (some amending) for three patients, among reads logged and revocations.
			const txs: Tx[] = Array.from({ length: 1 + Math.floor(random() * 40) }, (_, i): Tx => {
				const who = pick(patients);
				const roll = random();
				if (roll < 0.7)
					return {
						t: 'record.put',
						patient: fromHex(who),
						rid: fromHex(`${run.toString(16).padStart(4, '0')}${i.toString(16).padStart(28, '0')}`),
						category: pick(['labs', 'conditions', 'medications']),
						...(random() < 0.2 ? { prev: fromHex('ab'.repeat(32)) } : {})
					};
				if (roll < 0.85) return accessLogTx([{ patient: who, category: 'labs', action: 'read', at: NOW + i }]);
				return { t: 'consent.revoke', patient: fromHex(who), id: fromHex(i.toString(16).padStart(32, '0')) };
			});
			const block = unsignedBlock(`audit-${run}`, { author: authorOf('clinic-a'), seq: run, clock: run, time: NOW, txs });
			const facts = auditIndex.facts(block);
			// What one event per transaction would give, with each patient's writes then merged into the first.
			const expected: { patient: string; kind: string; records?: string[]; categories?: string[]; amended?: number }[] = [];
			const firstWrite = new Map<string, (typeof expected)[number]>();
			for (const tx of txs) {
				if (tx.t === 'record.put') {
					const who = toHex(tx.patient as Uint8Array);
					let e = firstWrite.get(who);
					if (!e) {
						firstWrite.set(who, (e = { patient: who, kind: 'write', records: [], categories: [], amended: 0 }));
						expected.push(e);
					}
					e.records!.push(toHex(tx.rid as Uint8Array));
					if (!e.categories!.includes(tx.category as string)) e.categories!.push(tx.category as string);
					if (tx.prev) e.amended!++;
				} else if (tx.t === 'access.log')
					expected.push({ patient: toHex((tx.entries as { patient: Uint8Array }[])[0]!.patient), kind: 'read' });
				else expected.push({ patient: toHex(tx.patient as Uint8Array), kind: 'revoke' });
			}
			expect(facts.map(([key, value]) => [key, (value as unknown as AuditEvent).kind])).toEqual(expected.map((e) => [e.patient, e.kind]));
			for (const [i, e] of expected.entries()) {
				if (e.kind !== 'write') continue;
				const got = facts[i]![1] as unknown as AuditEvent;
				expect(got.categories).toEqual(e.categories);
				expect(got.by).toBe(authorOf('clinic-a'));
				if (e.records!.length === 1) {
					expect(got.subject).toBe(e.records![0]);
					expect(got.records).toBeUndefined();
					expect(got.detail).toBe(e.amended ? 'amended' : undefined);
				} else {
					expect(got.records).toEqual(e.records);
					expect(got.subject).toBeUndefined();
					expect(got.detail).toBe(e.amended ? `${e.amended} amended` : undefined);
				}
			}
		}
	});
});
