// A clinic looks for key shares it owes only among the patients the blocks since its last
// look name (owed-shares.ts), not among every patient with a key: that look must never
// miss a share a look at every patient would make. Checked over random sequences of
// grants, revocations, emergency accesses, writes and membership changes, on both the
// clinic holding the keys and one receiving them.
import { describe, expect, it } from 'vitest';
import { encodeCanonical, fromHex, type Block } from '$lib/core/index.js';
import { authorOf, syncInto } from '$lib/core/testing/fixtures.js';
import { prng } from '$lib/core/testing/prng.js';
import { accessRequestTx } from '$lib/domain/records/book.js';
import { OwedShares } from '$lib/domain/records/owed-shares.js';
import { memberAddTx } from '$lib/domain/members.js';
import { clinics, grant, labResult, NOW, patientKey, revoke } from './records-support.js';

const block = (txs: Block['txs']) => ({ txs }) as unknown as Block;

describe('owed key shares', () => {
	it('names the patients of transactions, inside a grant too; membership means every patient; a malformed grant names none', () => {
		const owed = new OwedShares();
		expect(owed.take()).toBeUndefined(); // every patient at the start
		expect(owed.any).toBe(false);
		const p = patientKey();
		const q = patientKey();
		owed.mark([
			block([grant(p, authorOf('clinic-b'), ['labs']).tx, { t: 'consent.grant', grant: encodeCanonical({ patient: 'not hex' }) }]),
			block([{ t: 'consent.grant', grant: new Uint8Array([0xff, 0x00]) }, accessRequestTx('break-glass', q.id, ['labs'], 'ER')])
		]);
		expect(owed.take()?.sort()).toEqual([p.id, q.id].sort());
		owed.mark([block([memberAddTx(authorOf('someone'), 'clinician', '')])]);
		expect(owed.take()).toBeUndefined();
		owed.giveBack([p.id]);
		expect(owed.take()).toEqual([p.id]);
		owed.giveBack(undefined);
		expect(owed.take()).toBeUndefined();
	});

	it('a look at the patients named since the last one leaves nothing a look at every patient would share, over 4 random sequences of 16 steps', async () => {
		let shared = 0;
		for (let seed = 1; seed <= 4; seed++) {
			const rand = prng(seed);
			const { a, b, c, A, B } = await clinics();
			const patients = [patientKey(), patientKey(), patientKey()];
			const owedA = new OwedShares();
			const owedB = new OwedShares();
			a.on('accepted', (blocks) => owedA.mark(blocks));
			b.on('accepted', (blocks) => owedB.mark(blocks));
			const grants = new Map<number, string>();
			for (const [i, p] of patients.entries()) {
				await a.append([grant(p, authorOf('clinic-a'), ['labs', 'encounters']).tx]);
				await A.write(labResult(p.id, `first ${i}`), { now: NOW });
			}
			for (let step = 0; step < 16; step++) {
				const i = Math.floor(rand() * patients.length);
				const p = patients[i]!;
				const r = rand();
				if (r < 0.3) {
					const g = grant(p, authorOf(rand() < 0.5 ? 'clinic-b' : 'clinic-c'), ['labs']);
					grants.set(i, g.grant.id);
					await a.append([g.tx]);
				} else if (r < 0.4 && grants.has(i)) await a.append([revoke(p, grants.get(i)!)]);
				else if (r < 0.5) {
					await c.append([accessRequestTx('break-glass', p.id, ['labs'], 'Unconscious on arrival')]);
					await syncInto(a, c);
				} else if (r < 0.6 || step === 10)
					// A new device of clinic B: a reader of every patient who granted clinic B.
					await a.append([
						{ ...memberAddTx(authorOf(`dev-${seed}-${step}`), 'clinician', 'Device'), clinic: fromHex(authorOf('clinic-b')) }
					]);
				else await A.write(labResult(p.id, `step ${step}`), { now: NOW + step });
				await syncInto(b, a);
				for (const [owed, book] of [
					[owedA, A],
					[owedB, B]
				] as const) {
					shared += await book.shareKeys(NOW + 1000, owed.take());
					expect(await book.shareKeys(NOW + 1000)).toBe(0);
				}
				await syncInto(b, a);
				await syncInto(a, b);
			}
		}
		// The sequences made shares to look for.
		expect(shared).toBeGreaterThan(5);
	});
});
