/**
 * What the Research screen shows of the studies on the ledger, and what this node may do
 * with a query: read-only functions over the folds, computed the same on every node.
 */
import type { Ledger } from '$lib/core/index.js';
import type { MemberClinics, MemberNames } from '../members.js';
import type { PatientAccess } from '../privacy/access.js';
import type { Keyring } from '../records/keyring.js';
import { consentedPatients, type QueryRecord, type ResearchView, type StudyRecord } from './fold.js';
import { readQueryStudy } from './pages.js';
import { answersToCombine, combineAnswers, openAnswer, type CombinedResult } from './result.js';
import { ANSWER_ROLES } from './study.js';
import { ResearchRefusal } from './study-writes.js';

export interface StudyView {
	readonly study: StudyRecord;
	/** Patients whose consent is in force now. */
	readonly consented: number;
	/** Per approving or consent-recording member: approval time and consents in force recorded there. */
	readonly clinics: readonly { member: string; name: string; approved: number | null; consents: number }[];
	readonly queries: readonly QueryRecord[];
}

/** Every study, newest first, with its consents in force at `now` per clinic and its queries (refused ones too). `access`: read for every study's consenting patients. */
export function studyViews(research: ResearchView, access: PatientAccess, names: MemberNames, now: number): StudyView[] {
	return Object.values(research.studies)
		.sort((a, b) => b.registered - a.registered)
		.map((study) => {
			const inForce = consentedPatients(study, access, now);
			const members = new Set([...Object.keys(study.approvals), ...Object.values(study.consentedAt)]);
			// Copies: the fold changes its objects in place, and the view must see new ones to redraw.
			return {
				study: structuredClone(study),
				consented: inForce.size,
				clinics: [...members].map((member) => ({
					member,
					name: names[member] ?? `${member.slice(0, 8)}…`,
					approved: study.approvals[member] ?? null,
					consents: [...inForce].filter((p) => study.consentedAt[p] === member).length
				})),
				queries: structuredClone(
					study.queries
						.map((id) => research.queries[id]!)
						.concat(Object.values(research.queries).filter((q) => q.study === study.id && q.status === 'refused'))
				)
			};
		});
}

/**
 * Whether node `self` (of `role`) should answer `query`: a clinic node whose clinic (its
 * own key, or the clinic it belongs to) approved the study, and no device of that clinic
 * answered yet (one answer per clinic counts).
 */
export function mayAnswer(
	study: StudyRecord,
	query: QueryRecord,
	self: string | null,
	role: string | null,
	clinics: MemberClinics
): boolean {
	if (query.status !== 'accepted' || !self || query.results[self] || !role || !ANSWER_ROLES.includes(role)) return false;
	const clinic = clinics[self] ?? self;
	if (study.approvals[self] === undefined && study.approvals[clinic] === undefined) return false;
	return !Object.keys(query.results).some((author) => (clinics[author] ?? author) === clinic);
}

/** How many clinics' answers to `query` count now (one per clinic). */
export function answerCount(research: ResearchView, query: QueryRecord, clinics: MemberClinics): number {
	return answersToCombine(research.studies[query.study]!, query, clinics).length;
}

/** The researcher opens the answers sealed for them and combines them; `clinics`: how many answered. */
export async function openResults(
	ledger: Ledger,
	keyring: Keyring,
	queryId: string,
	clinics: MemberClinics
): Promise<{ result: CombinedResult | null; clinics: number }> {
	const research = await readQueryStudy(ledger, queryId);
	const query = research.queries[queryId];
	if (!query) throw new ResearchRefusal('NO_SUCH_QUERY', 'No such query.');
	const sealed = answersToCombine(research.studies[query.study]!, query, clinics);
	const answers = sealed.map((r) => openAnswer(r, ledger.net, query, (w, c) => keyring.openWrapped(w, c)));
	return { result: combineAnswers(answers), clinics: sealed.length };
}
