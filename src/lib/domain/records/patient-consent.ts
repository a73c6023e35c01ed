/**
 * The patient's own decisions, signed with their key (card + PIN): grant a clinic or a
 * researcher access to some categories (optionally answering their request), revoke a
 * grant (new data is then sealed under keys the grantee never gets), and what the patient
 * sees of their consent: grants, requests and emergency accesses, and the audit trail.
 * Each write is one transaction in one block.
 */
import { CodedError, type BlockId, type FactRow, type Ledger } from '$lib/core/index.js';
import { grantsOf, readAccess } from '../privacy/access.js';
import type { Grant, Purpose } from '../privacy/consent.js';
import type { Category } from '../privacy/envelope.js';
import { auditPage, type AuditEvent } from './audit-index.js';
import { requestsOf, type RecordsState } from './fold.js';
import type { PatientSession } from './patient.js';

export interface GrantInput {
	readonly grantee: string;
	readonly categories: readonly Category[];
	readonly purpose: Purpose;
	readonly days: number;
	/** The access request this grant answers. */
	readonly request?: string;
	readonly now?: number;
}

/**
 * The patient in `session` grants `input.grantee` access; throws `NO_GRANTEE`, a
 * `RangeError` for a duration or category list the grant cannot have, or the ledger's refusal.
 */
export async function grantAccess(ledger: Ledger, session: PatientSession, input: GrantInput): Promise<{ grant: Grant; block: BlockId }> {
	if (!input.grantee) throw new CodedError('NO_GRANTEE', 'Choose who may read.');
	const { grant, tx } = session.grant(input);
	return { grant, block: (await ledger.append([tx])).id };
}

/** The patient in `session` revokes their grant `id`. */
export async function revokeAccess(ledger: Ledger, session: PatientSession, id: string, now = Date.now()): Promise<BlockId> {
	return (await ledger.append([session.revoke(id, now)])).id;
}

export interface AccessRequestView {
	readonly id: string;
	readonly kind: 'request' | 'break-glass';
	readonly by: string;
	readonly at: number;
	readonly categories: Category[];
	readonly purpose: string;
	readonly reason: string;
	/** A grant answers it. */
	readonly answered: boolean;
}

export interface ConsentView {
	/** Newest first; copies, since the fold updates a grant in place when it is revoked. */
	readonly grants: (Grant & { revoked: boolean; block: string })[];
	/** The newest events of the audit trail, newest first (a page: see `olderAudit`). */
	readonly audit: AuditEvent[];
	/** Where the older events start ({@link auditPage}'s `before`); null when `audit` holds them all. */
	readonly olderAudit: FactRow | null;
	/** Newest first. */
	readonly requests: AccessRequestView[];
}

/** What `patient` sees of their consent on `ledger`, with the newest `auditLimit` events of their trail. */
export async function consentView(ledger: Ledger, patient: string, auditLimit = 100): Promise<ConsentView> {
	const trail = await auditPage(ledger, patient, auditLimit);
	const access = await readAccess(ledger, [patient]);
	const records = ledger.state().records as RecordsState;
	const answered = new Set(
		grantsOf(access, patient)
			.map((g) => g.request)
			.filter(Boolean)
	);
	return {
		grants: grantsOf(access, patient)
			.map((g) => ({ ...g }))
			.sort((a, b) => b.issued - a.issued),
		audit: trail.events,
		olderAudit: trail.next,
		requests: requestsOf(records, patient)
			.map(([id, r]) => ({
				id,
				kind: r.kind,
				by: r.by,
				at: r.at,
				categories: r.categories,
				purpose: r.purpose,
				reason: r.reason,
				answered: answered.has(id)
			}))
			.sort((a, b) => b.at - a.at)
	};
}
