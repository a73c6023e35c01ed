// The research use cases (domain/research/study-writes.ts, patient-consent.ts,
// study-views.ts) called as the Research screen and the headless peer call them, on real
// ledgers over the memory store: each writes one block, and a refusal writes nothing.
import { describe, expect, it } from 'vitest';
import type { Ledger } from '$lib/core/index.js';
import { authorOf, foundNetwork, joinNetwork, syncInto, testSecret } from '$lib/core/testing/fixtures.js';
import { writeSyntheticCohort } from '$lib/demo/research-cohort.js';
import { APP_FOLDS, APP_INDEXES } from '$lib/domain/fold-registry.js';
import { APP_RULES } from '$lib/domain/rule-registry.js';
import { allAccess } from '../../support/access.js';
import { PatientAccess } from '$lib/domain/privacy/access.js';
import { encryptionSecretKey } from '$lib/domain/privacy/envelope.js';
import { RecordBook } from '$lib/domain/records/book.js';
import { encodeCard, newPatientKey } from '$lib/domain/records/card.js';
import { Keyring } from '$lib/domain/records/keyring.js';
import { consentedPatients } from '$lib/domain/research/fold.js';
import { readResearch } from '$lib/domain/research/pages.js';
import { patientStudyConsent } from '$lib/domain/research/patient-consent.js';
import type { StudyInput } from '$lib/domain/research/study.js';
import { mayAnswer, openResults, studyViews } from '$lib/domain/research/study-views.js';
import { answerQuery, approveStudy, askQuery, registerStudy, ResearchRefusal } from '$lib/domain/research/study-writes.js';
import { T0, study as studyInput } from './research-ledger-support.js';

const CHEAP = { N: 2 ** 10, r: 8, p: 1 };
const options = { rules: APP_RULES, folds: APP_FOLDS, indexes: APP_INDEXES };
const keyringOf = (label: string) => new Keyring(authorOf(label), encryptionSecretKey(testSecret(label)));
const research = (l: Ledger) => readResearch(l);
/** The shared study input, asking for demographics and labs. */
const input = (over: Partial<StudyInput> = {}): StudyInput => studyInput({ categories: ['demographics', 'labs'], ...over });

async function sync(...ledgers: Ledger[]) {
	for (let round = 0; round < 2; round++) for (const a of ledgers) for (const b of ledgers) if (a !== b) await syncInto(a, b);
}

async function network() {
	const clinic = await foundNetwork({ ...options, founder: 'clinic-a', members: { researcher: 'researcher' } });
	const researcher = await joinNetwork(clinic.net, 'researcher', options);
	await sync(clinic, researcher);
	return { clinic, researcher };
}

const refusalOf = (promise: Promise<unknown>) => promise.then(() => null).catch((e: unknown) => e);

describe('research use cases', () => {
	it('register, approve, ask, answer and open: each one block; refusals write nothing', async () => {
		const { clinic, researcher } = await network();
		const size = researcher.size;
		expect(await refusalOf(registerStudy(researcher, input({ title: '' }), T0))).toMatchObject({ code: 'STUDY_INVALID' });
		expect(researcher.size).toBe(size);
		await registerStudy(researcher, input(), T0);
		expect(researcher.size).toBe(size + 1);
		const studyId = Object.keys((await research(researcher)).studies)[0]!;

		await sync(clinic, researcher);
		expect(await refusalOf(approveStudy(clinic, keyringOf('clinic-a'), 'nope'))).toBeInstanceOf(ResearchRefusal);
		await approveStudy(clinic, keyringOf('clinic-a'), studyId);
		const study = (await research(clinic)).studies[studyId]!;
		expect(study.approvals[clinic.author!]).toBeDefined();
		await writeSyntheticCohort(clinic, new RecordBook(clinic, keyringOf('clinic-a')), { count: 8, consenting: 6, study, seed: 3, now: T0 });
		await sync(clinic, researcher);

		// Only the researcher asks; the clinic's ask is refused here, before the ledger.
		const spec = { cohort: {}, measure: { kind: 'count' as const } };
		const before = clinic.size;
		expect(await refusalOf(askQuery(clinic, studyId, spec, 0, T0))).toMatchObject({ code: 'QUERY_REFUSED' });
		expect(clinic.size).toBe(before);
		await askQuery(researcher, studyId, spec, 0, T0);
		await sync(clinic, researcher);

		const queryId = Object.keys((await research(clinic)).queries)[0]!;
		const query = (await research(clinic)).queries[queryId]!;
		expect(mayAnswer((await research(clinic)).studies[studyId]!, query, clinic.author, 'admin', {})).toBe(true);
		expect(await answerQuery(clinic, keyringOf('clinic-a'), queryId, T0)).toBe(6);
		await sync(clinic, researcher);
		expect(
			mayAnswer((await research(clinic)).studies[studyId]!, (await research(clinic)).queries[queryId]!, clinic.author, 'admin', {})
		).toBe(false);

		const opened = await openResults(researcher, keyringOf('researcher'), queryId, {});
		expect(opened.clinics).toBe(1);
		expect(opened.result).toMatchObject({ kind: 'count' });
		await expect(openResults(researcher, keyringOf('researcher'), 'nope', {})).rejects.toThrow(ResearchRefusal);

		const [view] = studyViews(await research(researcher), await allAccess(researcher), {}, T0);
		expect(view!.consented).toBe(6);
		expect(view!.queries.map((q) => q.id)).toEqual([queryId]);
	}, 60_000);

	it('a patient with their card consents, then withdraws; a wrong PIN or nothing to withdraw writes nothing', async () => {
		const { clinic, researcher } = await network();
		await registerStudy(researcher, input(), T0);
		await sync(clinic, researcher);
		const studyId = Object.keys((await research(clinic)).studies)[0]!;
		const { seed, patient } = newPatientKey();
		const code = await encodeCard(seed, '31415926', { params: CHEAP, createdAt: T0 });
		const card = { code, pin: '31415926' };
		const inForce = async () => consentedPatients((await research(clinic)).studies[studyId]!, await allAccess(clinic), T0).has(patient);

		const size = clinic.size;
		expect(await refusalOf(patientStudyConsent(clinic, studyId, { code, pin: '00000000' }, false, T0))).toMatchObject({
			code: 'CARD_UNREADABLE'
		});
		expect(await refusalOf(patientStudyConsent(clinic, studyId, card, true, T0))).toMatchObject({ code: 'NO_CONSENT_IN_FORCE' });
		expect(await refusalOf(patientStudyConsent(clinic, 'nope', card, false, T0))).toMatchObject({ code: 'NO_SUCH_STUDY' });
		expect(clinic.size).toBe(size);

		await patientStudyConsent(clinic, studyId, card, false, T0);
		expect(clinic.size).toBe(size + 1);
		expect(await inForce()).toBe(true);
		// A consent read that did not cover the patient (the study consent arrived after it) counts nobody, without failing.
		expect(consentedPatients((await research(clinic)).studies[studyId]!, PatientAccess.none, T0).size).toBe(0);
		await patientStudyConsent(clinic, studyId, card, true, T0);
		expect(clinic.size).toBe(size + 2);
		expect(await inForce()).toBe(false);
	}, 60_000);
});
