/**
 * The research workspace: studies as the ledger knows them, and what this node does with
 * them by role. A researcher registers studies, asks queries (refused here before writing
 * when the ledger would refuse them) and opens the answers sealed for them; a clinic admin
 * approves studies (sharing the study key with the clinic's members); a clinic node
 * answers accepted queries from the consented patients it can read. The use cases are in
 * domain/research (study-writes.ts, patient-consent.ts, study-views.ts).
 */
import { Coalesced } from './coalesced.js';
import { describeError, type Ledger } from '$lib/core/index.js';
import { writeSyntheticCohort } from '$lib/demo/research-cohort.js';
import type { MemberClinics, MemberNames } from '$lib/domain/members.js';
import { readAccess } from '$lib/domain/privacy/access.js';
import { RecordBook } from '$lib/domain/records/book.js';
import type { Keyring } from '$lib/domain/records/keyring.js';
import { consentingPatients, queryRefusal, type QueryRecord } from '$lib/domain/research/fold.js';
import { readResearch } from '$lib/domain/research/pages.js';
import { patientStudyConsent } from '$lib/domain/research/patient-consent.js';
import type { QuerySpec } from '$lib/domain/research/query.js';
import type { CombinedResult } from '$lib/domain/research/result.js';
import type { StudyInput } from '$lib/domain/research/study.js';
import { answerCount, mayAnswer, openResults, studyViews, type StudyView } from '$lib/domain/research/study-views.js';
import { answerQuery, approveStudy, askQuery, registerStudy, ResearchRefusal } from '$lib/domain/research/study-writes.js';

export type { StudyView } from '$lib/domain/research/study-views.js';

export class ResearchWorkspace {
	#studies = $state.raw<StudyView[]>([]);
	#self = $state<string | null>(null);
	#role = $state<string | null>(null);
	#names = $state.raw<MemberNames>({});
	/** The clinic each device belongs to (member-clinics fold). */
	#clinics = $state.raw<MemberClinics>({});
	#busy = $state(false);
	#error = $state<string | null>(null);
	#notice = $state<string | null>(null);
	/** Opened and combined answers by query id (researcher). */
	#results = $state.raw<Record<string, { result: CombinedResult | null; clinics: number; error: string | null }>>({});

	#ledger: Ledger | null = null;
	#keyring: Keyring | null = null;
	#off: (() => void)[] = [];
	/** A sync delivers blocks by the thousand: redraw at most every 250 ms. */
	readonly #redraw = new Coalesced(250, () => void this.refresh());

	get studies() {
		return this.#studies;
	}
	get self() {
		return this.#self;
	}
	get role() {
		return this.#role;
	}
	get names() {
		return this.#names;
	}
	get clinics() {
		return this.#clinics;
	}
	get busy() {
		return this.#busy;
	}
	get error() {
		return this.#error;
	}
	get notice() {
		return this.#notice;
	}
	get results() {
		return this.#results;
	}

	attach(ledger: Ledger, keyring: Keyring): void {
		if (this.#ledger === ledger) return;
		this.detach();
		this.#ledger = ledger;
		this.#keyring = keyring;
		this.#off.push(ledger.on('accepted', () => this.#redraw.ask()));
		void this.refresh();
	}

	detach(): void {
		for (const off of this.#off) off();
		this.#off = [];
		this.#redraw.cancel();
		this.#ledger = null;
		this.#keyring = null;
	}

	/** Refreshes started: a refresh that finished reading after a newer one started shows nothing. */
	#refreshes = 0;

	/** Reads the studies again (their pages), with the consent of their patients (read from the store). */
	async refresh(): Promise<void> {
		const ledger = this.#ledger;
		if (!ledger) return;
		// This read covers every block accepted before it: a redraw they asked for is not needed.
		this.#redraw.cancel();
		const started = ++this.#refreshes;
		const research = await readResearch(ledger);
		const access = await readAccess(ledger, consentingPatients(...Object.values(research.studies)));
		if (started !== this.#refreshes || ledger !== this.#ledger) return;
		const state = ledger.state();
		this.#names = { ...(state['member-names'] as MemberNames) };
		this.#clinics = { ...(state['member-clinics'] as MemberClinics) };
		this.#self = ledger.author;
		this.#role = ledger.author ? (ledger.roster().get(ledger.author) ?? null) : null;
		this.#studies = studyViews(research, access, this.#names, Date.now());
		// Answers that arrived since a result was opened: open again.
		for (const id of Object.keys(this.#results)) {
			const q = research.queries[id];
			if (q && answerCount(research, q, this.#clinics) !== this.#results[id]!.clinics) void this.openResults(id);
		}
	}

	async #run<T>(what: (ledger: Ledger, keyring: Keyring) => Promise<T>, notice?: (value: T) => string): Promise<T | null> {
		this.#busy = true;
		this.#error = null;
		this.#notice = null;
		try {
			const value = await what(...this.#need());
			if (notice) this.#notice = notice(value);
			return value;
		} catch (error) {
			this.#error = describeError(error);
			return null;
		} finally {
			this.#busy = false;
		}
	}

	#need(): [Ledger, Keyring] {
		if (!this.#ledger || !this.#keyring) throw new ResearchRefusal('LEDGER_CLOSED', 'The ledger is not open.');
		return [this.#ledger, this.#keyring];
	}

	register(input: StudyInput): Promise<boolean> {
		return this.#run(
			async (ledger) => Boolean(await registerStudy(ledger, input)),
			() => 'Study registered. Each participating clinic’s admin approves it next.'
		).then(Boolean);
	}

	approve(studyId: string): Promise<boolean> {
		return this.#run(
			async (ledger, keyring) => Boolean(await approveStudy(ledger, keyring, studyId)),
			() => 'Approved: this clinic takes part, and its members hold the study key.'
		).then(Boolean);
	}

	/** Why the ledger would refuse this query now, or null: judged on the study as last read ({@link askQuery} judges again on the study's page before writing). */
	refusal(studyId: string, spec: QuerySpec, epsilon: number): string | null {
		if (!this.#ledger) return 'The ledger is not open.';
		const study = this.#studies.find((view) => view.study.id === studyId)?.study;
		return queryRefusal(study, this.#ledger.author ?? '', JSON.stringify(spec), epsilon, Date.now());
	}

	ask(studyId: string, spec: QuerySpec, epsilon: number): Promise<boolean> {
		return this.#run(
			async (ledger) => Boolean(await askQuery(ledger, studyId, spec, epsilon)),
			() => 'Query on the ledger. Each participating clinic answers it from its own consented patients.'
		).then(Boolean);
	}

	/** Whether this node should answer `query`: a clinic node whose clinic (its own key, or the clinic it belongs to) approved the study, not yet answered. */
	canAnswer(view: StudyView, query: QueryRecord): boolean {
		return mayAnswer(view.study, query, this.#self, this.#role, this.#clinics);
	}

	answer(queryId: string): Promise<boolean> {
		return this.#run(
			(ledger, keyring) => answerQuery(ledger, keyring, queryId),
			(n) => `Answered from ${n} consented patient${n === 1 ? '' : 's'} this node can read; the answer is sealed for the researcher.`
		).then((v) => v !== null);
	}

	async openResults(queryId: string): Promise<void> {
		try {
			const opened = await openResults(...this.#need(), queryId, this.#clinics);
			this.#results = { ...this.#results, [queryId]: { ...opened, error: null } };
		} catch (error) {
			this.#results = { ...this.#results, [queryId]: { result: null, clinics: 0, error: describeError(error) } };
		}
	}

	/** A patient present with their card and PIN consents to the study (`withdraw`: revokes their consent to it). */
	patientConsent(studyId: string, code: string, pin: string, withdraw: boolean): Promise<boolean> {
		return this.#run(
			async (ledger) => (await patientStudyConsent(ledger, studyId, { code, pin }, withdraw), withdraw),
			(withdrew) =>
				withdrew
					? 'Consent withdrawn: this patient is no longer counted in the study, at any clinic.'
					: 'Consent recorded, signed with the patient’s key.'
		).then((v) => v !== null);
	}

	/** Synthetic test patients at this clinic (demo and tests): `consenting` of them consent to the study. */
	loadSynthetic(studyId: string, count: number, consenting: number): Promise<boolean> {
		return this.#run(
			async (ledger, keyring) => {
				const study = (await readResearch(ledger, [studyId])).studies[studyId] ?? null;
				return writeSyntheticCohort(ledger, new RecordBook(ledger, keyring), { count, consenting, study, seed: Date.now() % 2 ** 31 });
			},
			(r) => `${r.patients} synthetic patients written, ${r.consented} consenting to the study.`
		).then((v) => v !== null);
	}
}
