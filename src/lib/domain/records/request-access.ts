/**
 * Asking a patient for access (they approve from their own view) or recording an
 * emergency access: one `access.request` / `access.breakglass` transaction, refused
 * before anything is written when it names no category or gives no reason.
 */
import { CodedError, type BlockId, type Ledger } from '$lib/core/index.js';
import type { Purpose } from '../privacy/consent.js';
import type { Category } from '../privacy/envelope.js';
import { accessRequestTx } from './book.js';

export type AccessRequestRefusalCode = 'NO_CATEGORIES' | 'NO_REASON';

/** A request refused before it was written. */
export class AccessRequestRefusal extends CodedError {
	override readonly name = 'AccessRequestRefusal';
	declare readonly code: AccessRequestRefusalCode;
	constructor(code: AccessRequestRefusalCode, message: string) {
		super(code, message);
	}
}

export interface AccessRequest {
	readonly kind: 'request' | 'break-glass';
	readonly patient: string;
	readonly categories: readonly Category[];
	/** Shown to the patient. */
	readonly reason: string;
	readonly purpose?: Purpose;
}

/** The refusal `request` meets before anything is written, or null. */
export function accessRequestProblem(request: AccessRequest): AccessRequestRefusal | null {
	if (request.categories.length === 0) return new AccessRequestRefusal('NO_CATEGORIES', 'Choose which categories you need.');
	if (!request.reason.trim())
		return new AccessRequestRefusal(
			'NO_REASON',
			request.kind === 'break-glass'
				? 'Emergency access needs a reason; the patient will see it.'
				: 'Say why you need access; the patient will see it.'
		);
	return null;
}

/** Appends the request (or emergency access) in one block; throws {@link AccessRequestRefusal} or the ledger's refusal. */
export async function requestAccess(ledger: Ledger, request: AccessRequest): Promise<BlockId> {
	const problem = accessRequestProblem(request);
	if (problem) throw problem;
	const tx = accessRequestTx(request.kind, request.patient, request.categories, request.reason, request.purpose ?? 'treatment');
	return (await ledger.append([tx])).id;
}
