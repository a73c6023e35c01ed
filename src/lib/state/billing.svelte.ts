/**
 * The Billing tab's seam to the ledger: reads the claims fold after every accepted block,
 * and writes contract, coverage, claim and payment transactions for this node's role.
 * Every outcome shown is the fold's, computed on this node from the blocks.
 */
import { describeError, type Ledger } from '$lib/core/index.js';
import { inForeground, whenIdle, yieldToPage } from './background.js';
import { SHOWN_PAGES, ShownPages } from './shown-pages.svelte.js';
import {
	appealClaim,
	BillingInputError,
	deployPolicy,
	enrollPatient,
	grantAuthorization,
	recordPayment,
	recordRemittance,
	submitClaim,
	type PolicyInput
} from '$lib/domain/contracts/billing-writes.js';
import { claimFromVisit, type ClaimFromVisit } from '$lib/domain/contracts/claim-from-visit.js';
import type { Visit } from '$lib/domain/records/visit.js';
import { encountersOfPatient, type PatientEncounter } from '$lib/domain/records/encounter-lookup.js';
import {
	BillingTally,
	CLAIM_ROLES,
	FlagList,
	claimPlace,
	comparePlace,
	currentDecision,
	pageRowOf,
	readCoveragesOf,
	readPagesByKey,
	statementOf,
	VisitLevels,
	type Accounts,
	type ClaimForm,
	type ClaimRecord,
	type ClaimsState,
	type Flag,
	type PatientPage,
	type Reconciliation,
	type TxPlace
} from '$lib/domain/contracts/index.js';

export type { ClaimDraft, ClaimFromVisit } from '$lib/domain/contracts/claim-from-visit.js';
export type { ClaimRecord, ClaimsState, Decision } from '$lib/domain/contracts/index.js';
export type { PolicyInput } from '$lib/domain/contracts/billing-writes.js';

/** Patients' claim pages read per slice of a pass over every claim (each slice when the page is idle), about. */
const PAGES_PER_SLICE = 256;

/**
 * Short keys in order, cut into slices of about {@link PAGES_PER_SLICE} at the store's row
 * boundaries (claims-state.ts `pageRowOf`): each row the pass reads is read once.
 */
export function slicesByRow(shorts: readonly number[]): number[][] {
	const sorted = [...shorts].sort((a, b) => a - b);
	const out: number[][] = [];
	let slice: number[] = [];
	for (const key of sorted) {
		if (slice.length >= PAGES_PER_SLICE && pageRowOf(String(key)) !== pageRowOf(String(slice.at(-1)!))) {
			out.push(slice);
			slice = [];
		}
		slice.push(key);
	}
	if (slice.length > 0) out.push(slice);
	return out;
}
/**
 * While blocks keep arriving, the lists are computed again at most this often, or twice
 * as long as the last computation took if that is longer: a catch-up with the Billing
 * screen open does not keep the page busy recomputing every claim after every batch.
 */
const LIST_GAP_MS = 500;

/**
 * What a Billing list keeps of a claim: enough to filter, count, chart and order it. The
 * claim itself (its lines and decisions) is read from its patient's page only for the rows
 * drawn ({@link BillingState.record}), so a ledger of 100,000 claims does not hold them all.
 */
export interface ClaimSummary {
	readonly id: string;
	/** The claim's place in the ledger order. */
	readonly place: TxPlace;
	readonly patient: string;
	readonly clinic: string;
	readonly payer: string | null;
	/** The current decision's status; 'replaced' for a corrected claim, null before any decision. */
	readonly status: 'paid' | 'partial' | 'denied' | 'replaced' | null;
	/** `plan@version` of each decision (the Contracts view lists the claims decided under a version). */
	readonly versions: readonly string[];
	/** The current decision's payer share (cents). */
	readonly paid: number;
	/** The current decision's denied lines: [reason code, billed cents]. */
	readonly denied: readonly (readonly [string, number])[];
}

function summaryOf(rec: ClaimRecord): ClaimSummary {
	const d = currentDecision(rec);
	return {
		id: rec.id,
		place: claimPlace(rec),
		patient: rec.patient,
		clinic: rec.clinic,
		payer: rec.payer,
		status: rec.replacedBy !== null ? 'replaced' : (d?.status ?? null),
		versions: [...new Set(rec.decisions.map((x) => `${x.plan}@${x.version}`))],
		paid: d?.payer ?? 0,
		denied: d ? d.lines.filter((l) => l.denied).map((l) => [l.adjustments[0]!.carc, l.billed] as const) : []
	};
}

export class BillingState {
	#claims = $state.raw<ClaimsState | null>(null);
	#all = $state.raw<ClaimSummary[]>([]);
	#flags = $state.raw<Flag[]>([]);
	#accounts = $state.raw<Accounts>({ patients: {}, payers: {} });
	#reconciliation = $state.raw<Reconciliation | null>(null);
	#busy = $state(false);
	#error = $state<string | null>(null);
	#done = $state<string | null>(null);
	/** While the lists are first computed: patients' claim pages read so far, of how many. */
	#reading = $state.raw<{ done: number; total: number } | null>(null);
	/** True once the lists hold the claims of a state read since the screen opened. */
	#listed = $state(false);
	#off: (() => void) | null = null;
	#ledger: () => Ledger | null;
	/** The computation of the lists under way, and whether blocks came in since it started. */
	#listing: Promise<void> | null = null;
	#stale = false;
	/** The pages of the patients whose claims or statements are drawn. */
	readonly #shown: ShownPages;

	get claims(): ClaimsState | null {
		return this.#claims;
	}
	/** Every claim, newest first, as the lists keep it ({@link ClaimSummary}). */
	get all(): ClaimSummary[] {
		return this.#all;
	}
	/**
	 * The claim a summary stands for (for the rows drawn), from its patient's page as last
	 * read: null until the page is read (the row is drawn once it is).
	 */
	record(summary: Pick<ClaimSummary, 'id' | 'patient'>): ClaimRecord | null {
		const page = this.#shown.page(summary.patient);
		return page && Object.hasOwn(page.claims, summary.id) ? page.claims[summary.id]! : null;
	}
	get flags(): Flag[] {
		return this.#flags;
	}
	get accounts(): Accounts {
		return this.#accounts;
	}
	get reconciliation(): Reconciliation | null {
		return this.#reconciliation;
	}
	get busy(): boolean {
		return this.#busy;
	}
	get error(): string | null {
		return this.#error;
	}
	get done(): string | null {
		return this.#done;
	}
	/** While the claim lists are first computed (every patient's page read, a slice at a time): how far. */
	get reading(): { done: number; total: number } | null {
		return this.#reading;
	}
	/** Whether the lists (every claim, flags, accounts) are computed; before that the screen says it is reading them. */
	get listed(): boolean {
		return this.#listed;
	}
	/** The clinic this node bills for: the clinic member it was added for, else itself. */
	get clinic(): string | null {
		const self = this.#ledger()?.author ?? null;
		return self && this.#claims ? (this.#claims.clinics[self] ?? self) : self;
	}
	/** Whether this node's role may submit claims. */
	get canBill(): boolean {
		void this.#claims;
		const ledger = this.#ledger();
		const role = ledger?.author ? ledger.roster().get(ledger.author) : undefined;
		return (CLAIM_ROLES as readonly string[]).includes(role ?? '');
	}

	constructor(ledger: () => Ledger | null) {
		this.#ledger = ledger;
		this.#shown = new ShownPages(
			ledger,
			() => this.#state(),
			(error) => (this.#error = `Could not read the claims: ${describeError(error)}`)
		);
	}

	/** Starts following the ledger (call when the tab opens); returns the stop function. */
	follow(): () => void {
		const ledger = this.#ledger();
		this.#off?.();
		this.#off = ledger?.on('accepted', () => void this.refresh()) ?? null;
		void this.refresh();
		return () => {
			this.#off?.();
			this.#off = null;
		};
	}

	/**
	 * Reads the claims fold again. The head (contracts, coverages, clinics: what a claim form
	 * needs) at once; the lists (every claim, the flags, accounts and reconciliation) after,
	 * in the background: a pass reads every patient's page a slice at a time (with progress,
	 * `reading`, the first time), and while blocks keep arriving passes run at most once per
	 * {@link LIST_GAP_MS}. Resolves once lists that include this call's state are computed.
	 */
	refresh(): Promise<void> {
		const state = this.#state();
		// The fold updates its state in place: a new outer object tells the page it changed.
		this.#claims = state ? { ...state } : null;
		this.#stale = true;
		return (this.#listing ??= this.#list());
	}

	#state(): ClaimsState | null {
		return (this.#ledger()?.state().claims as ClaimsState | undefined) ?? null;
	}

	/** Computes the lists until no refresh came in while it did (one pass per gap); `#listing` is this while it runs. */
	async #list(): Promise<void> {
		try {
			while (this.#stale) {
				this.#stale = false;
				const started = performance.now();
				// The first lists are what the screen waits for: ahead of background work (state/background.ts).
				await (this.#listed ? this.#pass(whenIdle) : inForeground(() => this.#pass(yieldToPage)));
				if (this.#stale) await pause(Math.max(LIST_GAP_MS, 2 * (performance.now() - started)));
			}
		} catch (error) {
			this.#error = `Could not read the claims: ${describeError(error)}`;
		} finally {
			// In the same task as the loop's last check: a refresh after it starts a new computation.
			this.#listing = null;
			this.#reading = null;
		}
	}

	/**
	 * One pass over every patient's page, a slice per task ({@link slicesByRow}, the next
	 * slice read from the ledger meanwhile): each page read without keeping it decoded (the
	 * fold's memory and its next checkpoint stay as they were), its claims added to the
	 * accounts, the reconciliation and the visit levels, and kept as summaries. Until the
	 * lists are first shown, says how far it is. `pause`: between slices.
	 */
	async #pass(pause: () => Promise<void>): Promise<void> {
		const state = this.#state();
		const tally = new BillingTally();
		const levels = new VisitLevels();
		const summaries: ClaimSummary[] = [];
		const flags = new FlagList();
		const ledger = this.#ledger();
		const shorts = state?.pages.shorts() ?? [];
		const slices = slicesByRow(shorts);
		const total = shorts.length;
		// The pages drawn are read again with the lists, so what is drawn is as new as they are.
		const drawn = new Map<string, PatientPage | null>(this.#shown.patients().map((p) => [p, null]));
		// Each slice's pages are read while the slice before is added up (the store's reads are the
		// browser's work, off this thread): the next read is asked for before this one is used.
		const read = (at: number) => readPagesByKey(ledger!, slices[at]!);
		let next = slices.length > 0 ? read(0) : null;
		let done = 0;
		for (let at = 0; at < slices.length; at++) {
			if (at > 0) {
				if (!this.#listed) this.#reading = { done, total };
				await pause();
			}
			const pages = await next!;
			done += slices[at]!.length;
			next = at + 1 < slices.length ? read(at + 1) : null;
			// Not left unhandled if this pass stops before using it (the next pass reads again).
			next?.catch(() => undefined);
			for (const [key, page] of pages) {
				const patient = state!.pages.keyList[key]!;
				if (drawn.has(patient)) drawn.set(patient, page);
				flags.add(page);
				tally.addPaid(page);
				for (const rec of Object.values(page.claims)) {
					tally.add(rec);
					levels.add(rec);
					summaries.push(summaryOf(rec));
				}
			}
		}
		summaries.sort((a, b) => comparePlace(b.place, a.place));
		// The newest claims' pages, read before the lists are shown: the first rows drawn need no read of their own.
		const newest = [...new Set(summaries.slice(0, SHOWN_PAGES / 2).map((c) => c.patient))].filter((p) => !drawn.has(p));
		this.#shown.keep(new Map([...drawn, ...(await this.#shown.read(newest))]), true);
		this.#all = summaries;
		this.#flags = [...flags.list(), ...levels.flags()];
		this.#accounts = tally.accounts();
		this.#reconciliation = state ? tally.reconciliation() : null;
		this.#reading = null;
		this.#listed = true;
	}

	/** "Bill this visit": the claim the visit implies, with what it cannot supply named (the patient's coverages read from the store). */
	async draftFor(visit: Visit): Promise<ClaimFromVisit> {
		const ledger = this.#ledger();
		return claimFromVisit(visit, ledger ? await readCoveragesOf(ledger, visit.patient) : {});
	}

	/**
	 * The encounters a claim for `patient` may bill: records of the encounters category on
	 * the ledger (their keys are in the clear, their content sealed), newest first.
	 */
	visitsOf(patient: string): Promise<PatientEncounter[]> {
		void this.#claims; // read again after every accepted batch
		const ledger = this.#ledger();
		return ledger ? encountersOfPatient(ledger, patient) : Promise.resolve([]);
	}

	/** Runs a billing use case with the busy flag; its refusal (the input's or the ledger's) becomes `error`. */
	async #write(write: (ledger: Ledger) => Promise<unknown>, done: string | (() => string)): Promise<boolean> {
		const ledger = this.#ledger();
		if (!ledger) return false;
		this.#busy = true;
		this.#error = null;
		this.#done = null;
		try {
			await write(ledger);
			await this.refresh();
			this.#done = typeof done === 'string' ? done : done();
			return true;
		} catch (error) {
			this.#error = error instanceof BillingInputError ? error.message : `Refused: ${describeError(error)}`;
			return false;
		} finally {
			this.#busy = false;
		}
	}

	/** Deploys the sample tables with these cost-sharing terms as the next version of `plan`. */
	deploy(input: PolicyInput): Promise<boolean> {
		let version = 0;
		return this.#write(
			async (ledger) => (version = await deployPolicy(ledger, input)),
			() => `Deployed ${input.plan} version ${version}.`
		);
	}

	enroll(id: string, plan: string, patient: string, start: string): Promise<boolean> {
		return this.#write((ledger) => enrollPatient(ledger, id, plan, patient, start), `Coverage ${id} recorded.`);
	}

	grant(id: string, coverage: string, code: string, start: string, end: string): Promise<boolean> {
		return this.#write((ledger) => grantAuthorization(ledger, id, coverage, code, start, end), `Authorization ${id} granted.`);
	}

	/** Submits a claim; the form is checked first and every fault is listed with its path. */
	submit(form: ClaimForm): Promise<boolean> {
		return this.#write((ledger) => submitClaim(ledger, form), 'Claim submitted; its outcome is below.');
	}

	appeal(claim: string, reason: string, preAuthRef: string[]): Promise<boolean> {
		return this.#write((ledger) => appealClaim(ledger, claim, reason, preAuthRef), 'Appeal recorded; the claim was decided again.');
	}

	remit(claim: string, cents: number): Promise<boolean> {
		return this.#write((ledger) => recordRemittance(ledger, claim, cents), 'Remittance recorded.');
	}

	pay(patient: string, cents: number): Promise<boolean> {
		return this.#write((ledger) => recordPayment(ledger, patient, cents), 'Payment recorded.');
	}

	/** A patient's statement at `clinic`: null until the patient's page is read. */
	statement(clinic: string, patient: string) {
		const page = this.#shown.page(patient);
		return this.claims && page !== undefined ? statementOf(page ?? undefined, clinic, patient) : null;
	}
}

/** A task boundary: the page draws and answers input before the next slice of work. */
const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
