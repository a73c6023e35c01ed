/**
 * The research use cases that write: a researcher registers a study and asks queries, a
 * clinic admin approves a study (sharing its key with the clinic's members), a clinic
 * node answers an accepted query from the consented patients it can read. Plain
 * functions over the ledger (and the keyring where keys are opened) that the Research
 * screen, the headless peer and the tests call the same way; each is checked before it
 * writes and writes ONE block, so a refusal leaves nothing behind.
 */
import { CodedError, type Block, type Ledger } from '$lib/core/index.js';
import { readAccess } from '../privacy/access.js';
import { accessLogTx, RecordBook } from '../records/book.js';
import type { Keyring } from '../records/keyring.js';
import { consentedPatients, consentingPatients, queryRefusal, type StudyRecord } from './fold.js';
import { readQueryStudy, readResearch } from './pages.js';
import { approvalWraps, unwrapStudyKey } from './keys.js';
import { secureRng } from './laplace.js';
import type { QuerySpec } from './query.js';
import { answerAtClinic, sealAnswer } from './result.js';
import { readablePatients } from './source.js';
import { approveStudyTx, KEY_HOLDER_ROLES, registerStudyTx, studyProblem, studyQueryTx, studyResultTx, type StudyInput } from './study.js';

export type ResearchRefusalCode =
	'LEDGER_CLOSED' | 'NO_SUCH_STUDY' | 'NO_SUCH_QUERY' | 'STUDY_INVALID' | 'QUERY_REFUSED' | 'CARD_UNREADABLE' | 'NO_CONSENT_IN_FORCE';

/** A research write refused before anything was written; the message is for people. */
export class ResearchRefusal extends CodedError {
	override readonly name = 'ResearchRefusal';
	declare readonly code: ResearchRefusalCode;
	constructor(code: ResearchRefusalCode, message: string, options?: { cause?: unknown }) {
		super(code, message, options);
	}
}

/** The study `id` on `ledger` (read from its page), or a NO_SUCH_STUDY refusal. */
export async function studyOn(ledger: Ledger, id: string): Promise<StudyRecord> {
	const study = (await readResearch(ledger, [id])).studies[id];
	if (!study) throw new ResearchRefusal('NO_SUCH_STUDY', 'No such study.');
	return study;
}

/** Registers a study (researcher); refused here when the ledger's rule would refuse it at `now`. */
export async function registerStudy(ledger: Ledger, input: StudyInput, now: number = Date.now()): Promise<Block> {
	const problem = studyProblem(input, now);
	if (problem) throw new ResearchRefusal('STUDY_INVALID', problem);
	return ledger.append([registerStudyTx(input)]);
}

/** A clinic admin approves a study: the study key wrapped for each member of the clinic that holds keys. */
export async function approveStudy(ledger: Ledger, keyring: Keyring, studyId: string): Promise<Block> {
	const study = await studyOn(ledger, studyId);
	const members = [...ledger.roster().entries()].filter(([, role]) => KEY_HOLDER_ROLES.includes(role)).map(([m]) => m as string);
	const wraps = approvalWraps(study, ledger.net, keyring.self, (w, c) => keyring.openWrapped(w, c), members);
	return ledger.append([approveStudyTx(studyId, wraps)]);
}

/** Why the ledger would refuse this query from this node at `now`, or null. */
export async function queryRefusalOn(
	ledger: Ledger,
	studyId: string,
	spec: QuerySpec,
	epsilon: number,
	now: number = Date.now()
): Promise<string | null> {
	return queryRefusal((await readResearch(ledger, [studyId])).studies[studyId], ledger.author ?? '', JSON.stringify(spec), epsilon, now);
}

/** The researcher asks a query; refused here (QUERY_REFUSED) when the ledger would refuse it. */
export async function askQuery(
	ledger: Ledger,
	studyId: string,
	spec: QuerySpec,
	epsilon: number,
	now: number = Date.now()
): Promise<Block> {
	const refusal = await queryRefusalOn(ledger, studyId, spec, epsilon, now);
	if (refusal) throw new ResearchRefusal('QUERY_REFUSED', `Not sent: ${refusal}.`);
	return ledger.append([studyQueryTx(studyId, JSON.stringify(spec), epsilon)]);
}

/**
 * A clinic node answers `queryId` from the patients consented when it was asked that this
 * node can read, sealed for the researcher, with the read log in the same block. Returns
 * how many patients the answer was computed from.
 */
export async function answerQuery(ledger: Ledger, keyring: Keyring, queryId: string, now: number = Date.now()): Promise<number> {
	const research = await readQueryStudy(ledger, queryId);
	const query = research.queries[queryId];
	if (!query) throw new ResearchRefusal('NO_SUCH_QUERY', 'No such query.');
	const study = research.studies[query.study]!;
	const access = await readAccess(ledger, consentingPatients(study));
	const book = new RecordBook(ledger, keyring);
	const consented = consentedPatients(study, access, query.time);
	const { patients, reads } = await readablePatients(book, consented, study.categories, now);
	const studyKey = unwrapStudyKey(study, ledger.net, keyring.self, (w, c) => keyring.openWrapped(w, c));
	const answer = answerAtClinic({ study, query, access, patients, studyKey, rng: secureRng() });
	await ledger.append([
		studyResultTx(study.id, query.id, sealAnswer(answer, ledger.net, study, query)),
		...(reads.length ? [accessLogTx(reads)] : [])
	]);
	return patients.length;
}
