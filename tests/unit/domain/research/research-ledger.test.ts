/** Studies on the ledger: registration and approval, the study key and pseudonyms, consent across two clinics, the privacy budget, answers from a record book, and the fold's checkpoint. */
import { describe, expect, it } from 'vitest';
import { generateSecretKey, type CborValue, type Tx } from '$lib/core/index.js';
import { signNoble } from '$lib/core/crypto/ed25519.js';
import { authorOf, testSecret } from '$lib/core/testing/fixtures.js';
import { revokeGrantTx, revokeMessage } from '$lib/domain/privacy/consent.js';
import { EnvelopeError, encryptionSecretKey } from '$lib/domain/privacy/envelope.js';
import { approveStudyTx, registerStudyTx, studyQueryTx, studyResultTx } from '$lib/domain/research/study.js';
import { studyConsentMessage, studyConsentTx } from '$lib/domain/privacy/study-consent.js';
import { consentedPatients, type ResearchState } from '$lib/domain/research/fold.js';
import { approvalWraps, unwrapStudyKey, wrapStudyKey } from '$lib/domain/research/keys.js';
import { answerAtClinic, answersToCombine, combineAnswers, openAnswer, sealAnswer } from '$lib/domain/research/result.js';
import { seededRng } from '$lib/demo/seeded-rng.js';
import { syntheticPatient } from '$lib/demo/synthetic-patients.js';
import { pseudonym } from '$lib/domain/research/deidentify.js';
import { RecordBook } from '$lib/domain/records/book.js';
import { Keyring } from '$lib/domain/records/keyring.js';
import { writeSyntheticCohort } from '$lib/demo/research-cohort.js';
import { readablePatients } from '$lib/domain/research/source.js';
import { extractRows } from '$lib/domain/research/extract.js';
import { consentTxs, withdrawTxs } from '$lib/domain/research/consent.js';
import { PatientSession } from '$lib/domain/records/patient.js';
import { summarizeTx } from '$lib/domain/tx-summary.js';
import {
	accessOf,
	consent,
	idOf,
	network,
	patient,
	researchOf,
	study,
	sync,
	T0,
	unwrapAs,
	type TestPatient
} from './research-ledger-support.js';

describe('studies on the ledger', () => {
	it('registration by a researcher, approval by admins; wrong roles and fields refused', async () => {
		const { clinicA, clinicB, researcher } = await network();
		await expect(clinicA.append([registerStudyTx(study())])).rejects.toMatchObject({ code: 'NOT_AUTHORIZED' });
		await expect(researcher.append([registerStudyTx(study({ ethics: '' }))])).rejects.toMatchObject({
			code: 'TX_INVALID',
			message: expect.stringMatching(/ethics/)
		});
		await expect(researcher.append([registerStudyTx(study({ rows: true, budget: 1000 }))])).rejects.toMatchObject({
			code: 'TX_INVALID',
			message: expect.stringMatching(/rows/)
		});
		const tx = registerStudyTx(study());
		await researcher.append([tx]);
		await sync(clinicA, clinicB, researcher);
		await expect(researcher.append([approveStudyTx(idOf(tx))])).rejects.toMatchObject({ code: 'NOT_AUTHORIZED' });
		await clinicA.append([approveStudyTx(idOf(tx))]);
		await clinicB.append([approveStudyTx(idOf(tx))]);
		await sync(clinicA, clinicB, researcher);
		const s = (await researchOf(researcher)).studies[idOf(tx)]!;
		expect(s).toMatchObject({
			researcher: authorOf('researcher'),
			title: 'HbA1c in the community',
			ethics: 'IRB-2026-014',
			categories: ['encounters', 'labs'],
			budget: 0
		});
		expect(Object.keys(s.approvals).sort()).toEqual([authorOf('clinic-a'), authorOf('clinic-b')].sort());
		expect(summarizeTx(tx).text).toBe('Study registered: HbA1c in the community (ethics IRB-2026-014)');
		expect(summarizeTx(studyQueryTx(idOf(tx), '{}', 250)).text).toMatch(/spending ε 0\.250$/);
	}, 30_000);

	it('the study key goes to clinic members only; both clinics derive the same pseudonyms', async () => {
		const { clinicA, clinicB, researcher } = await network();
		const tx = registerStudyTx(study({ rows: true }));
		await researcher.append([tx]);
		await sync(clinicA, researcher);
		const net = clinicA.net;
		const s0 = (await researchOf(clinicA)).studies[idOf(tx)]!;
		const secretA = unwrapAs('clinic-a');
		// A wrap for the researcher (or a payer) is refused on the ledger.
		const key = new Uint8Array(32).fill(1);
		await expect(
			clinicA.append([approveStudyTx(idOf(tx), wrapStudyKey(key, net, idOf(tx), [authorOf('researcher')]))])
		).rejects.toMatchObject({ code: 'TX_INVALID', message: expect.stringMatching(/clinic members only/) });
		await expect(clinicA.append([approveStudyTx(idOf(tx), wrapStudyKey(key, net, idOf(tx), [authorOf('payer')]))])).rejects.toMatchObject({
			code: 'TX_INVALID'
		});
		// Clinic A makes the key and wraps it for itself; a later approval by A wraps the same key for clinic B.
		await clinicA.append([approveStudyTx(idOf(tx), approvalWraps(s0, net, authorOf('clinic-a'), secretA, [authorOf('clinic-a')]))]);
		const s1 = (await researchOf(clinicA)).studies[idOf(tx)]!;
		await clinicA.append([approveStudyTx(idOf(tx), approvalWraps(s1, net, authorOf('clinic-a'), secretA, [authorOf('clinic-b')]))]);
		await sync(clinicA, clinicB, researcher);
		const s = (await researchOf(researcher)).studies[idOf(tx)]!;
		const keyA = unwrapStudyKey(s, net, authorOf('clinic-a'), secretA);
		const keyB = unwrapStudyKey(s, net, authorOf('clinic-b'), unwrapAs('clinic-b'));
		expect(keyA).not.toBeNull();
		expect(keyB).toEqual(keyA);
		expect(unwrapStudyKey(s, net, authorOf('researcher'), unwrapAs('researcher'))).toBeNull();
		expect(Object.keys(s.keys)).not.toContain(authorOf('researcher'));
		const someone = 'ab'.repeat(32);
		expect(pseudonym(keyA!, someone)).toBe(pseudonym(keyB!, someone));
		// An extract at either clinic names the same patient with the same pseudonym.
		const rng = seededRng(4);
		const people = Array.from({ length: 40 }, () => syntheticPatient(rng, 10));
		const atA = extractRows(people, () => true, {}, keyA!, T0);
		const atB = extractRows(people, () => true, {}, keyB!, T0);
		expect(atA.rows.map((r) => r.pid)).toEqual(atB.rows.map((r) => r.pid));
		const expected = new Set(people.map((p) => pseudonym(keyA!, p.patient)));
		expect(atA.rows.every((r) => expected.has(r.pid))).toBe(true);
		expect(atA.report.kept).toBeGreaterThan(0);
	});

	it('two clinics: only consented, non-withdrawn patients are counted anywhere; the researcher combines sealed answers', async () => {
		const { clinicA, clinicB, researcher } = await network();
		const reg = registerStudyTx(study());
		await researcher.append([reg]);
		await sync(clinicA, clinicB, researcher);
		const studyId = idOf(reg);
		await clinicA.append([approveStudyTx(studyId)]);
		await clinicB.append([approveStudyTx(studyId)]);
		const rng = seededRng(5);
		const R = authorOf('researcher');
		// Per clinic: 20 consent and stay, 6 consent then withdraw, 8 never consent, 4 consent to someone else, 3 grant too few categories.
		const groups = { stay: 20, withdraw: 6, never: 8, wrongGrantee: 4, narrow: 3 };
		const clinics = [clinicA, clinicB].map(
			() =>
				Object.fromEntries(Object.entries(groups).map(([k, n]) => [k, Array.from({ length: n }, () => patient(rng))])) as Record<
					keyof typeof groups,
					TestPatient[]
				>
		);
		for (const [i, ledger] of [clinicA, clinicB].entries()) {
			const c = clinics[i]!;
			const txs: Tx[] = [];
			for (const p of c.stay) txs.push(...consent(p, R, studyId).txs);
			for (const p of c.wrongGrantee) txs.push(...consent(p, authorOf('clinic-a'), studyId).txs);
			for (const p of c.narrow) txs.push(...consent(p, R, studyId, ['labs']).txs);
			const withdrawn = c.withdraw.map((p) => ({ p, ...consent(p, R, studyId) }));
			for (const w of withdrawn) txs.push(...w.txs);
			await ledger.append(txs);
			const t = T0 + 10;
			await ledger.append(
				withdrawn.map(({ p, grant }) => revokeGrantTx(p.id, grant.id, t, signNoble(p.seed, revokeMessage(p.id, grant.id, t))))
			);
		}
		// A study consent not signed by the patient is refused.
		const forger = patient(rng);
		const forged = consent(forger, R, studyId);
		await expect(
			clinicA.append([
				studyConsentTx(
					studyId,
					forged.grant.id,
					forger.id,
					signNoble(testSecret('clinic-a'), studyConsentMessage(studyId, forged.grant.id, forger.id))
				)
			])
		).rejects.toMatchObject({ code: 'TX_INVALID' });
		await sync(clinicA, clinicB, researcher);

		const q = studyQueryTx(studyId, JSON.stringify({ cohort: {}, measure: { kind: 'histogram', dimension: { by: 'sex' } } }), 0);
		await researcher.append([q]);
		await sync(clinicA, clinicB, researcher);
		for (const [i, ledger] of [clinicA, clinicB].entries()) {
			const state = await researchOf(ledger);
			const s = state.studies[studyId]!;
			const query = state.queries[idOf(q)]!;
			expect(query.status).toBe('accepted');
			const c = clinics[i]!;
			const counted = consentedPatients(s, await accessOf(ledger), query.time);
			const all = Object.values(c).flat();
			for (const p of all) expect(counted.has(p.id), `${p.id}`).toBe(c.stay.includes(p));
			const answer = answerAtClinic({
				study: s,
				query,
				access: await accessOf(ledger),
				patients: all.map((p) => p.records),
				studyKey: null,
				rng: seededRng(1)
			});
			expect(answer.kind === 'table' && answer.table.total).toBe(20);
			await ledger.append([studyResultTx(studyId, query.id, sealAnswer(answer, ledger.net, s, query))]);
		}
		await sync(clinicA, clinicB, researcher);
		const state = await researchOf(researcher);
		const query = state.queries[idOf(q)]!;
		expect(Object.keys(query.results).sort()).toEqual([authorOf('clinic-a'), authorOf('clinic-b')].sort());
		const s = state.studies[studyId]!;
		expect(answersToCombine(s, query, {})).toHaveLength(2);
		// A second device of clinic A answering too would not count A twice; an answer from a clinic that did not approve is left out.
		const device = {
			eph: new Uint8Array(32),
			knonce: new Uint8Array(24),
			wrapped: new Uint8Array(48),
			nonce: new Uint8Array(24),
			ct: new Uint8Array(16),
			block: 'x'
		};
		const twice = {
			...query,
			results: { ...query.results, ['d1'.repeat(32)]: { ...device, time: T0 + 999 }, ['e1'.repeat(32)]: { ...device, time: T0 } }
		};
		expect(answersToCombine(s, twice, { ['d1'.repeat(32)]: authorOf('clinic-a') })).toHaveLength(2);
		const answers = answersToCombine(s, query, {}).map((r) => openAnswer(r, researcher.net, query, unwrapAs('researcher')));
		const combined = combineAnswers(answers);
		expect(combined).toMatchObject({ kind: 'table', total: { value: 40, hiddenAt: 0 }, clinics: 2 });
		// The other clinic cannot open what was sealed for the researcher.
		expect(() => openAnswer(Object.values(query.results)[0]!, researcher.net, query, unwrapAs('clinic-b'))).toThrow(EnvelopeError);
		// Nothing in the sealed results reveals a patient key.
		const bytes = Buffer.concat(Object.values(query.results).map((r) => Buffer.from(r.ct)));
		for (const p of Object.values(clinics[0]!).flat()) expect(bytes.includes(Buffer.from(p.id))).toBe(false);
	}, 60_000);

	it('the privacy budget: queries spend ε, one that would exceed it is refused, exact queries refused in a DP study', async () => {
		const { clinicA, researcher } = await network();
		const reg = registerStudyTx(study({ budget: 1000 }));
		await researcher.append([reg]);
		const studyId = idOf(reg);
		const count = JSON.stringify({ cohort: {}, measure: { kind: 'count' } });
		const early = studyQueryTx(studyId, count, 300);
		await researcher.append([early]);
		await sync(clinicA, researcher);
		await clinicA.append([approveStudyTx(studyId)]);
		await sync(clinicA, researcher);
		const queries = [
			studyQueryTx(studyId, count, 600),
			studyQueryTx(studyId, count, 600),
			studyQueryTx(studyId, count, 0),
			studyQueryTx(studyId, count, 400),
			studyQueryTx(studyId, JSON.stringify({ cohort: {}, measure: { kind: 'extract' } }), 0)
		];
		for (const q of queries) await researcher.append([q]);
		await sync(clinicA, researcher);
		for (const ledger of [clinicA, researcher]) {
			const state = await researchOf(ledger);
			expect(state.queries[idOf(early)]).toMatchObject({ status: 'refused', reason: expect.stringMatching(/no clinic has approved/) });
			expect(state.queries[idOf(queries[0]!)]).toMatchObject({ status: 'accepted' });
			expect(state.queries[idOf(queries[1]!)]).toMatchObject({ status: 'refused', reason: expect.stringMatching(/over budget/) });
			expect(state.queries[idOf(queries[2]!)]).toMatchObject({
				status: 'refused',
				reason: expect.stringMatching(/differential privacy only/)
			});
			expect(state.queries[idOf(queries[3]!)]).toMatchObject({ status: 'accepted' });
			expect(state.queries[idOf(queries[4]!)]).toMatchObject({ status: 'refused' });
			expect(state.studies[studyId]!.spent).toBe(1000);
		}
		// A refused query gets no answer from a clinic, and results for it are not recorded.
		const state = await researchOf(clinicA);
		const access = await accessOf(clinicA);
		expect(() =>
			answerAtClinic({
				study: state.studies[studyId]!,
				query: state.queries[idOf(queries[1]!)]!,
				access,
				patients: [],
				studyKey: null,
				rng: seededRng(1)
			})
		).toThrow(/refused/);
		// Only the study's researcher queries it; a malformed spec never reaches the ledger.
		await expect(researcher.append([studyQueryTx(studyId, '{"measure":{"kind":"sum"}}', 0)])).rejects.toMatchObject({
			code: 'TX_INVALID',
			message: expect.stringMatching(/measure.kind/)
		});
		await expect(clinicA.append([studyQueryTx(studyId, count, 0)])).rejects.toMatchObject({ code: 'NOT_AUTHORIZED' });
	});

	it('a clinic answers from its record book: consented patients only, requested categories only, reads logged', async () => {
		const { clinicA, researcher } = await network();
		const reg = registerStudyTx(study({ categories: ['demographics', 'labs'] }));
		await researcher.append([reg]);
		await sync(clinicA, researcher);
		await clinicA.append([approveStudyTx(idOf(reg))]);
		const book = new RecordBook(clinicA, new Keyring(authorOf('clinic-a'), encryptionSecretKey(testSecret('clinic-a'))));
		const s = (await researchOf(clinicA)).studies[idOf(reg)]!;
		expect(await writeSyntheticCohort(clinicA, book, { count: 14, consenting: 12, study: s, seed: 9, now: T0 })).toEqual({
			patients: 14,
			consented: 12
		});
		expect(await book.patients()).toHaveLength(14);
		const state = (await researchOf(clinicA)).studies[idOf(reg)]!;
		const consented = consentedPatients(state, await accessOf(clinicA), T0);
		expect(consented.size).toBe(12);
		const { patients, reads } = await readablePatients(book, consented, state.categories, T0);
		expect(patients).toHaveLength(12);
		for (const p of patients) {
			expect(consented.has(p.patient)).toBe(true);
			expect(p.resources.some((r) => r.resourceType === 'Patient')).toBe(true);
			// Encounters were not requested: no Encounter, no vital sign, no condition.
			expect(
				p.resources.every(
					(r) => r.resourceType === 'Patient' || (r.resourceType === 'Observation' && r.category?.[0]?.coding?.[0]?.code === 'laboratory')
				)
			).toBe(true);
		}
		expect(new Set(reads.map((r) => r.category))).toEqual(new Set(['demographics', 'labs']));
		// The researcher queries once it has seen the approval (a query ordered before any approval is refused).
		await sync(clinicA, researcher);
		await researcher.append([studyQueryTx(idOf(reg), JSON.stringify({ cohort: {}, measure: { kind: 'count' } }), 0)]);
		await sync(clinicA, researcher);
		const query = Object.values((await researchOf(clinicA)).queries)[0]!;
		const answer = answerAtClinic({ study: state, query, access: await accessOf(clinicA), patients, studyKey: null, rng: seededRng(1) });
		expect(answer).toEqual({ kind: 'count', count: 12, noisy: false });
	}, 60_000);

	it('a patient present with their key consents to a study and withdraws', async () => {
		const { clinicA, researcher } = await network();
		const reg = registerStudyTx(study());
		await researcher.append([reg]);
		await sync(clinicA, researcher);
		const s = async () => (await researchOf(clinicA)).studies[idOf(reg)]!;
		const session = new PatientSession(generateSecretKey());
		await clinicA.append(consentTxs(session, await s(), T0));
		expect(consentedPatients(await s(), await accessOf(clinicA), T0 + 1).has(session.patient)).toBe(true);
		expect((await s()).consentedAt[session.patient]).toBe(authorOf('clinic-a'));
		await clinicA.append(withdrawTxs(session, await s(), await accessOf(clinicA), T0 + 2));
		expect(consentedPatients(await s(), await accessOf(clinicA), T0 + 3).has(session.patient)).toBe(false);
		expect(withdrawTxs(session, await s(), await accessOf(clinicA), T0 + 4)).toEqual([]);
		session.close();
	});

	it('the fold survives a checkpoint round trip exactly', async () => {
		const { clinicA, researcher } = await network();
		const reg = registerStudyTx(study({ rows: true }));
		await researcher.append([reg]);
		await sync(clinicA, researcher);
		const s0 = (await researchOf(clinicA)).studies[idOf(reg)]!;
		await clinicA.append([
			approveStudyTx(idOf(reg), approvalWraps(s0, clinicA.net, authorOf('clinic-a'), unwrapAs('clinic-a'), [authorOf('clinic-b')]))
		]);
		const ask = studyQueryTx(idOf(reg), JSON.stringify({ cohort: {}, measure: { kind: 'count' } }), 0);
		await researcher.append([ask]);
		await sync(clinicA, researcher);
		const { researchFold } = await import('$lib/domain/research/fold.js');
		const { researchView } = await import('$lib/domain/research/pages.js');
		const { encodeCanonical, decodeCanonical } = await import('$lib/core/index.js');
		// No checkpoint yet: every page is in the state, and in its checkpoint form.
		const state = clinicA.state().research as ResearchState;
		const view = researchView(state);
		expect(Object.keys(view.studies)).toEqual([idOf(reg)]);
		expect(Object.keys(view.queries)).toEqual([idOf(ask)]);
		expect(view).toEqual(await researchOf(clinicA));
		const bytes = encodeCanonical(researchFold.encode(state));
		expect(researchView(researchFold.decode(decodeCanonical(bytes)))).toEqual(view);
		expect(encodeCanonical(researchFold.encode(researchFold.decode(decodeCanonical(bytes))))).toEqual(bytes);
		// A checkpoint written before studies were pages (`{studies, queries}`) decodes to the same studies, every page to be stored.
		const old = researchFold.decode(decodeCanonical(encodeCanonical(view as unknown as CborValue)));
		expect(researchView(old)).toEqual(view);
		expect(old.pages.changed().map(([key]) => key)).toEqual([idOf(reg)]);
		// One written while a map of query ids to studies stood beside the pages: the same state, written again without the map (the index holds it).
		const withMap = { queryStudy: { [idOf(ask)]: idOf(reg) }, ...(researchFold.encode(state) as object) };
		const decoded = researchFold.decode(decodeCanonical(encodeCanonical(withMap as CborValue)));
		expect(researchView(decoded)).toEqual(view);
		expect(Object.keys(decoded)).toEqual(['pages']);
		expect(encodeCanonical(researchFold.encode(decoded))).toEqual(bytes);
	});
});
