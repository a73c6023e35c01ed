/**
 * The patient's own view, opened with their key card and PIN: their records (opened with
 * their key, every category), their grants (grant, revoke: domain/records/patient-consent.ts),
 * the requests and emergency accesses made of them, and the audit trail of their data.
 */
import { CodedError, describeError, type FactRow } from '$lib/core/index.js';
import type { Grant, Purpose } from '$lib/domain/privacy/consent.js';
import type { Category } from '$lib/domain/privacy/envelope.js';
import { RecordBook, type RecordView } from '$lib/domain/records/book.js';
import { CardError, openCard } from '$lib/domain/records/card.js';
import { PatientSession } from '$lib/domain/records/patient.js';
import { auditPage, type AuditEvent } from '$lib/domain/records/audit-index.js';
import { consentView, grantAccess, revokeAccess, type AccessRequestView } from '$lib/domain/records/patient-consent.js';
import type { RecordsContext } from './context.js';
import type { ReadLog } from './read-log.svelte.js';

export class PatientConsent {
	/** The patient present with their card, while their view is open. */
	#session = $state.raw<PatientSession | null>(null);
	get session() {
		return this.#session;
	}
	#error = $state<string | null>(null);
	get error() {
		return this.#error;
	}
	#grants = $state.raw<(Grant & { revoked: boolean; block: string })[]>([]);
	get grants() {
		return this.#grants;
	}
	/** The patient's own records, opened with the patient's key (all categories). */
	#records = $state.raw<RecordView[]>([]);
	get records() {
		return this.#records;
	}
	#audit = $state.raw<AuditEvent[]>([]);
	/** The audit trail read so far, newest first: a page at a time ({@link showOlderAudit}). */
	get audit() {
		return this.#audit;
	}
	#olderAudit = $state.raw<FactRow | null>(null);
	/** The trail holds older events than those read. */
	get hasOlderAudit() {
		return this.#olderAudit !== null;
	}
	#requests = $state.raw<AccessRequestView[]>([]);
	get requests() {
		return this.#requests;
	}

	readonly #context: RecordsContext;
	readonly #reads: ReadLog;

	/** `reads`: this node's read log, written out when a patient opens their view. */
	constructor(context: RecordsContext, reads: ReadLog) {
		this.#context = context;
		this.#reads = reads;
	}

	/** Opens the patient's view with their card code and PIN. */
	async open(code: string, pin: string): Promise<boolean> {
		this.#error = null;
		try {
			const { seed } = await openCard(code, pin);
			this.close();
			this.#session = new PatientSession(seed);
			// The reads this node made and has not written yet (every 10 s) go on the ledger first:
			// the trail the patient sees holds every read of their data made here so far.
			await this.#reads.flush();
			await this.reload();
			return true;
		} catch (error) {
			this.#error = error instanceof CardError ? error.message : `The card could not be opened: ${describeError(error)}`;
			return false;
		}
	}

	close(): void {
		this.#session?.close();
		this.#session = null;
		this.#grants = [];
		this.#audit = [];
		this.#olderAudit = null;
		this.#requests = [];
		this.#records = [];
	}

	/** Re-reads the open view (after blocks that may change it): the trail from its newest page again. */
	async reload(): Promise<void> {
		const session = this.#session;
		const ledger = this.#context.ledger;
		if (!session || !ledger) return;
		void new RecordBook(ledger, session.keyring).chart(session.patient).then(({ records: mine }) => {
			if (this.#session === session) this.#records = mine;
		});
		const view = await consentView(ledger, session.patient);
		if (this.#session !== session) return;
		this.#grants = view.grants;
		this.#audit = view.audit;
		this.#olderAudit = view.olderAudit;
		this.#requests = view.requests;
	}

	/** Reads the next, older page of the audit trail. */
	async showOlderAudit(): Promise<void> {
		const session = this.#session;
		const ledger = this.#context.ledger;
		const before = this.#olderAudit;
		if (!session || !ledger || !before) return;
		const page = await auditPage(ledger, session.patient, 100, before);
		if (this.#session !== session || this.#olderAudit !== before) return;
		this.#audit = [...this.#audit, ...page.events];
		this.#olderAudit = page.next;
	}

	/** The patient grants `grantee` access (optionally answering a request). */
	async grant(grantee: string, categories: readonly Category[], purpose: Purpose, days: number, request?: string): Promise<boolean> {
		const session = this.#session;
		const ledger = this.#context.ledger;
		if (!session) return false;
		this.#error = null;
		if (!ledger) return false;
		try {
			await grantAccess(ledger, session, { grantee, categories, purpose, days, ...(request ? { request } : {}) });
			await this.#context.refresh();
			return true;
		} catch (error) {
			const refused = error instanceof RangeError || (error instanceof CodedError && error.code === 'NO_GRANTEE');
			this.#error = refused ? describeError(error) : `Not recorded: ${describeError(error)}`;
			return false;
		}
	}

	/** The patient revokes a grant: new data is sealed under keys the grantee never gets. */
	async revoke(id: string): Promise<boolean> {
		const session = this.#session;
		const ledger = this.#context.ledger;
		this.#error = null;
		if (!session || !ledger) return false;
		try {
			await revokeAccess(ledger, session, id);
			await this.#context.refresh();
			return true;
		} catch (error) {
			this.#error = `Not recorded: ${describeError(error)}`;
			return false;
		}
	}
}
