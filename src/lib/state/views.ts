/**
 * The view types and display helpers components use, re-exported from the domain and
 * the core so that components import only from state/: the layer rule (components never
 * import the core or the domain) holds, and a renamed domain file changes one line here.
 * Only types, constants and pure display functions belong here; anything that reads or
 * writes the ledger is a manager's method.
 */
export type { AuthorId, BlockId } from '$lib/core/index.js';
export { billingViewsFor } from '$lib/domain/screens.js';
export { type BackupNetwork, MIN_PASSPHRASE_CHARS } from '$lib/domain/keystore.js';
export {
	CLAIM_ROLES,
	type ClaimRecord,
	currentDecision,
	dateOfDay,
	type Decision,
	PAYMENT_ROLES,
	ruleText
} from '$lib/domain/contracts/index.js';
export { type PendingJoin } from '$lib/domain/network-config.js';
export { type NetworkLink } from '$lib/domain/network-link.js';
export { type InviteLink, type InviteRecord, MAX_INVITE_DAYS } from '$lib/domain/invites.js';
export { fileSize } from '$lib/domain/tx-summary.js';
export { MEMBER_ROLES, type MemberNames, type MemberView } from '$lib/domain/members.js';
export { encounterResources, noteText, type VitalKey } from '$lib/domain/records/encounter.js';
export {
	clinicalDate,
	type ClinicalResource,
	mainCode,
	narrativeText,
	RESOURCE_TYPES,
	summarize,
	VITALS
} from '$lib/domain/records/fhir.js';
export { type Purpose, PURPOSES } from '$lib/domain/privacy/consent.js';
export { CATEGORIES, type Category } from '$lib/domain/privacy/envelope.js';
export { type RecordView, type SetAsideReason, type VersionView } from '$lib/domain/records/book.js';
export { visitsOf, type Visit } from '$lib/domain/records/visit.js';
export { cellText, combinedCsv, combinedMeasureReport, extractBundle, extractCsv } from '$lib/domain/research/export.js';
export { type CohortSpec, type CombinedCell, type Dimension, type Measure, type QuerySpec } from '$lib/domain/research/query.js';
export { type CombinedResult } from '$lib/domain/research/result.js';
export { CONTACT_STATUSES, type ContactStatus } from '$lib/domain/supply/transactions.js';
export { type TimelineBucket } from '$lib/domain/supply/views.js';
