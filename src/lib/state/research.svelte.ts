/**
 * The research workspace: studies as the ledger knows them, and what this node does with
 * them by role. A researcher registers studies, asks queries (refused here before writing
 * when the ledger would refuse them) and opens the answers sealed for them; a clinic admin
 * approves studies (sharing the study key with the clinic's members); a clinic node
 * answers accepted queries from the consented patients it can read.
 */
import { describeError, type Ledger } from '$lib/core/index.js';
import type { AccessState } from '$lib/domain/privacy/access.js';
import type { MemberClinics, MemberNames } from '$lib/domain/members.js';
import { accessLogTx, RecordBook } from '$lib/domain/records/book.js';
import type { Keyring } from '$lib/domain/records/keyring.js';
import { CardError, openCard } from '$lib/domain/records/card.js';
import { PatientSession } from '$lib/domain/records/patient.js';
import { consentTxs, withdrawTxs } from '$lib/domain/research/consent.js';
import { writeSyntheticCohort } from '$lib/demo/research-cohort.js';
import { consentedPatients, queryRefusal, type QueryRecord, type ResearchState, type StudyRecord } from '$lib/domain/research/fold.js';
import { approvalWraps, unwrapStudyKey } from '$lib/domain/research/keys.js';
import { secureRng } from '$lib/domain/research/laplace.js';
import type { QuerySpec } from '$lib/domain/research/query.js';
import {
	answerAtClinic,
	answersToCombine,
	combineAnswers,
	openAnswer,
	sealAnswer,
	type CombinedResult
} from '$lib/domain/research/result.js';
import { readablePatients } from '$lib/domain/research/source.js';
import {
	ANSWER_ROLES,
	approveStudyTx,
	KEY_HOLDER_ROLES,
	registerStudyTx,
	studyProblem,
	studyQueryTx,
	studyResultTx,
	type StudyInput
} from '$lib/domain/research/study.js';

export interface StudyView {
	readonly study: StudyRecord;
	/** Patients whose consent is in force now. */
	readonly consented: number;
	/** Per approving or consent-recording member: approval time and consents in force recorded there. */
	readonly clinics: readonly { member: string; name: string; approved: number | null; consents: number }[];
	readonly queries: readonly QueryRecord[];
}

export class ResearchWorkspace {
	#studies = $state.raw<StudyView[]>([]);
	get studies() {
		return this.#studies;
	}
	#self = $state<string | null>(null);
	get self() {
		return this.#self;
	}
	#role = $state<string | null>(null);
	get role() {
		return this.#role;
	}
	#names = $state.raw<MemberNames>({});
	get names() {
		return this.#names;
	}
	/** The clinic each device belongs to (member-clinics fold). */
	#clinics = $state.raw<MemberClinics>({});
	get clinics() {
		return this.#clinics;
	}
	#busy = $state(false);
	get busy() {
		return this.#busy;
	}
	#error = $state<string | null>(null);
	get error() {
		return this.#error;
	}
	#notice = $state<string | null>(null);
	get notice() {
		return this.#notice;
	}
	/** Opened and combined answers by query id (researcher). */
	#results = $state.raw<Record<string, { result: CombinedResult | null; clinics: number; error: string | null }>>({});
	get results() {
		return this.#results;
	}

	#ledger: Ledger | null = null;
	#keyring: Keyring | null = null;
	#off: (() => void)[] = [];
	#refreshTimer: ReturnType<typeof setTimeout> | null = null;

	attach(ledger: Ledger, keyring: Keyring): void {
		if (this.#ledger === ledger) return;
		this.detach();
		this.#ledger = ledger;
		this.#keyring = keyring;
		this.#off.push(ledger.on('accepted', () => this.#queueRefresh()));
		this.refresh();
	}

	detach(): void {
		for (const off of this.#off) off();
		this.#off = [];
		if (this.#refreshTimer) clearTimeout(this.#refreshTimer);
		this.#refreshTimer = null;
		this.#ledger = null;
		this.#keyring = null;
	}

	/** A sync delivers blocks by the thousand: redraw at most every 250 ms. */
	#queueRefresh(): void {
		this.#refreshTimer ??= setTimeout(() => {
			this.#refreshTimer = null;
			this.refresh();
		}, 250);
	}

	refresh(): void {
		const ledger = this.#ledger;
		if (!ledger) return;
		const state = ledger.state();
		const research = state.research as ResearchState;
		const access = state.access as AccessState;
		this.#names = { ...(state['member-names'] as MemberNames) };
		this.#clinics = { ...(state['member-clinics'] as MemberClinics) };
		this.#self = ledger.author;
		this.#role = ledger.author ? (ledger.roster().get(ledger.author) ?? null) : null;
		const now = Date.now();
		this.#studies = Object.values(research.studies)
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
						name: this.#names[member] ?? `${member.slice(0, 8)}…`,
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
		// Answers that arrived since a result was opened: open again.
		for (const id of Object.keys(this.#results)) {
			const q = research.queries[id];
			if (q && answersToCombine(research.studies[q.study]!, q, this.#clinics).length !== this.#results[id]!.clinics) this.openResults(id);
		}
	}

	async #run<T>(what: () => Promise<T>, notice?: (value: T) => string): Promise<T | null> {
		this.#busy = true;
		this.#error = null;
		this.#notice = null;
		try {
			const value = await what();
			if (notice) this.#notice = notice(value);
			return value;
		} catch (error) {
			this.#error = describeError(error);
			return null;
		} finally {
			this.#busy = false;
		}
	}

	#need(): { ledger: Ledger; keyring: Keyring } {
		if (!this.#ledger || !this.#keyring) throw new Error('The ledger is not open.');
		return { ledger: this.#ledger, keyring: this.#keyring };
	}

	register(input: StudyInput): Promise<boolean> {
		return this.#run(
			async () => {
				const problem = studyProblem(input, Date.now());
				if (problem) throw new Error(problem);
				await this.#need().ledger.append([registerStudyTx(input)]);
				return true;
			},
			() => 'Study registered. Each participating clinic’s admin approves it next.'
		).then(Boolean);
	}

	approve(studyId: string): Promise<boolean> {
		return this.#run(
			async () => {
				const { ledger, keyring } = this.#need();
				const study = (ledger.state().research as ResearchState).studies[studyId];
				if (!study) throw new Error('No such study.');
				const roster = ledger.roster();
				const members = [...roster.entries()].filter(([, role]) => KEY_HOLDER_ROLES.includes(role)).map(([m]) => m as string);
				const wraps = approvalWraps(study, ledger.net, keyring.self, (w, c) => keyring.openWrapped(w, c), members);
				await ledger.append([approveStudyTx(studyId, wraps)]);
				return true;
			},
			() => 'Approved: this clinic takes part, and its members hold the study key.'
		).then(Boolean);
	}

	/** Why the ledger would refuse this query now, or null. */
	refusal(studyId: string, spec: QuerySpec, epsilon: number): string | null {
		const ledger = this.#ledger;
		if (!ledger) return 'The ledger is not open.';
		const study = (ledger.state().research as ResearchState).studies[studyId];
		return queryRefusal(study, ledger.author ?? '', JSON.stringify(spec), epsilon, Date.now());
	}

	ask(studyId: string, spec: QuerySpec, epsilon: number): Promise<boolean> {
		return this.#run(
			async () => {
				const refusal = this.refusal(studyId, spec, epsilon);
				if (refusal) throw new Error(`Not sent: ${refusal}.`);
				await this.#need().ledger.append([studyQueryTx(studyId, JSON.stringify(spec), epsilon)]);
				return true;
			},
			() => 'Query on the ledger. Each participating clinic answers it from its own consented patients.'
		).then(Boolean);
	}

	/** Whether this node should answer `query`: a clinic node whose clinic (its own key, or the clinic it belongs to) approved the study, not yet answered. */
	canAnswer(view: StudyView, query: QueryRecord): boolean {
		const self = this.#self;
		if (query.status !== 'accepted' || !self || query.results[self] || !this.#role || !ANSWER_ROLES.includes(this.#role)) return false;
		const clinic = this.#clinics[self] ?? self;
		if (view.study.approvals[self] === undefined && view.study.approvals[clinic] === undefined) return false;
		// Another device of this clinic answered already: one answer per clinic counts.
		return !Object.keys(query.results).some((author) => (this.#clinics[author] ?? author) === clinic);
	}

	answer(queryId: string): Promise<boolean> {
		return this.#run(
			async () => {
				const { ledger, keyring } = this.#need();
				const state = ledger.state();
				const research = state.research as ResearchState;
				const query = research.queries[queryId];
				if (!query) throw new Error('No such query.');
				const study = research.studies[query.study]!;
				const access = state.access as AccessState;
				const book = new RecordBook(ledger, keyring);
				const consented = consentedPatients(study, access, query.time);
				const { patients, reads } = await readablePatients(book, consented, study.categories, Date.now());
				const studyKey = unwrapStudyKey(study, ledger.net, keyring.self, (w, c) => keyring.openWrapped(w, c));
				const answer = answerAtClinic({ study, query, access, patients, studyKey, rng: secureRng() });
				await ledger.append([
					studyResultTx(study.id, query.id, sealAnswer(answer, ledger.net, study, query)),
					...(reads.length ? [accessLogTx(reads)] : [])
				]);
				return patients.length;
			},
			(n) => `Answered from ${n} consented patient${n === 1 ? '' : 's'} this node can read; the answer is sealed for the researcher.`
		).then((v) => v !== null);
	}

	openResults(queryId: string): void {
		try {
			const { ledger, keyring } = this.#need();
			const research = ledger.state().research as ResearchState;
			const query = research.queries[queryId];
			if (!query) throw new Error('No such query.');
			const sealed = answersToCombine(research.studies[query.study]!, query, this.#clinics);
			const answers = sealed.map((r) => openAnswer(r, ledger.net, query, (w, c) => keyring.openWrapped(w, c)));
			this.#results = { ...this.#results, [queryId]: { result: combineAnswers(answers), clinics: sealed.length, error: null } };
		} catch (error) {
			this.#results = { ...this.#results, [queryId]: { result: null, clinics: 0, error: describeError(error) } };
		}
	}

	/** A patient present with their card and PIN consents to the study (`withdraw`: revokes their consent to it). */
	patientConsent(studyId: string, code: string, pin: string, withdraw: boolean): Promise<boolean> {
		return this.#run(
			async () => {
				const { ledger } = this.#need();
				const study = (ledger.state().research as ResearchState).studies[studyId];
				if (!study) throw new Error('No such study.');
				let seed: Uint8Array;
				try {
					seed = (await openCard(code, pin)).seed;
				} catch (error) {
					throw new Error(error instanceof CardError ? error.message : `The card could not be opened: ${describeError(error)}`, {
						cause: error
					});
				}
				const session = new PatientSession(seed);
				try {
					const now = Date.now();
					const txs = withdraw ? withdrawTxs(session, study, ledger.state().access as AccessState, now) : consentTxs(session, study, now);
					if (txs.length === 0) throw new Error('This patient has no consent in force for this study.');
					await ledger.append(txs);
					return withdraw;
				} finally {
					session.close();
				}
			},
			(withdrew) =>
				withdrew
					? 'Consent withdrawn: this patient is no longer counted in the study, at any clinic.'
					: 'Consent recorded, signed with the patient’s key.'
		).then((v) => v !== null);
	}

	/** Synthetic test patients at this clinic (demo and tests): `consenting` of them consent to the study. */
	loadSynthetic(studyId: string, count: number, consenting: number): Promise<boolean> {
		return this.#run(
			async () => {
				const { ledger, keyring } = this.#need();
				const study = (ledger.state().research as ResearchState).studies[studyId] ?? null;
				return writeSyntheticCohort(ledger, new RecordBook(ledger, keyring), { count, consenting, study, seed: Date.now() % 2 ** 31 });
			},
			(r) => `${r.patients} synthetic patients written, ${r.consented} consenting to the study.`
		).then((v) => v !== null);
	}
}
