/**
 * The Billing tab's seam to the ledger: reads the claims fold after every accepted block,
 * and writes contract, coverage, claim and payment transactions for this node's role.
 * Every outcome shown is the fold's, computed on this node from the blocks.
 */
import { describeError, type Ledger } from '$lib/core/index.js';
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
	accountsOf,
	allClaims,
	allFlags,
	CLAIM_ROLES,
	reconcile,
	statementOf,
	type Accounts,
	type ClaimForm,
	type ClaimRecord,
	type ClaimsState,
	type Flag,
	type Reconciliation
} from '$lib/domain/contracts/index.js';

export type { ClaimDraft, ClaimFromVisit } from '$lib/domain/contracts/claim-from-visit.js';
export type { ClaimRecord, ClaimsState, Decision } from '$lib/domain/contracts/index.js';
export type { PolicyInput } from '$lib/domain/contracts/billing-writes.js';

/** Patients' claim pages decoded per slice while the lists are first read (the page stays responsive between slices). */
const PAGES_PER_SLICE = 250;
/**
 * While blocks keep arriving, the lists are computed again at most this often, or twice
 * as long as the last computation took if that is longer: a catch-up with the Billing
 * screen open does not keep the page busy recomputing every claim after every batch.
 */
const LIST_GAP_MS = 500;

export class BillingState {
	#claims = $state.raw<ClaimsState | null>(null);
	#all = $state.raw<ClaimRecord[]>([]);
	#flags = $state.raw<Flag[]>([]);
	#accounts = $state.raw<Accounts>({ patients: {}, payers: {} });
	#reconciliation = $state.raw<Reconciliation | null>(null);
	#busy = $state(false);
	#error = $state<string | null>(null);
	#done = $state<string | null>(null);
	/** While the lists are first read: patients' claim pages decoded so far, of how many. */
	#reading = $state.raw<{ done: number; total: number } | null>(null);
	/** True once the lists hold the claims of a state read since the screen opened. */
	#listed = $state(false);
	#off: (() => void) | null = null;
	#ledger: () => Ledger | null;
	/** The computation of the lists under way, and whether blocks came in since it started. */
	#listing: Promise<void> | null = null;
	#stale = false;

	get claims(): ClaimsState | null {
		return this.#claims;
	}
	/** Every claim, in ledger order. */
	get all(): ClaimRecord[] {
		return this.#all;
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
	/** While the claim lists are first read (every patient's claims decoded, a slice at a time): how far. */
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
	 * in the background: the first time every patient's claims are decoded a slice at a time
	 * with progress (`reading`), and while blocks keep arriving at most once per
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
				await this.#decodePages();
				const started = performance.now();
				const state = this.#state();
				// Every claim listed once (its page decoded above), for the lists and every total.
				const all = state ? allClaims(state) : [];
				this.#all = all;
				this.#flags = state ? allFlags(state, all) : [];
				this.#accounts = state ? accountsOf(state, all) : { patients: {}, payers: {} };
				this.#reconciliation = state ? reconcile(state, all) : null;
				this.#listed = true;
				if (this.#stale) await pause(Math.max(LIST_GAP_MS, 2 * (performance.now() - started)));
			}
		} catch (error) {
			this.#error = `Could not read the claims: ${describeError(error)}`;
		} finally {
			// In the same task as the loop's last check: a refresh after it starts a new computation.
			this.#listing = null;
		}
	}

	/** Decodes the patients' claim pages not yet decoded, a slice per task, showing how far (none after the first time). */
	async #decodePages(): Promise<void> {
		let state = this.#state();
		if (!state || state.pages.packedCount === 0) return;
		const total = state.pages.keys().length;
		try {
			while (state && state.pages.packedCount > 0) {
				this.#reading = { done: total - state.pages.packedCount, total };
				state.pages.decodeSome(PAGES_PER_SLICE);
				await pause(0);
				// A late block can refold the fold from a checkpoint: its state is then another object.
				state = this.#state();
			}
		} finally {
			this.#reading = null;
		}
	}

	/** "Bill this visit": the claim the visit implies, with what it cannot supply named. */
	draftFor(visit: Visit): ClaimFromVisit {
		return claimFromVisit(visit, this.#claims?.coverages ?? {});
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

	statement(clinic: string, patient: string) {
		return this.claims ? statementOf(this.claims, clinic, patient) : null;
	}
}

/** A task boundary: the page draws and answers input before the next slice of work. */
const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
