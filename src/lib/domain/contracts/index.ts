/** Claims contracts: policies as data, adjudication in a fold, billing and fraud checks (docs/contracts.md). */
export { CARC, BYPASS_MODIFIERS, decide, versionFor, type Known } from './adjudicate.js';
export {
	accountsOf,
	BillingTally,
	currentDecision,
	reconcile,
	statementOf,
	type Account,
	type Accounts,
	type Reconciliation,
	type Statement,
	type StatementLine
} from './billing.js';
export { centsOf, claimResource, parseClaim, type ClaimForm, type ClaimLine, type EncounterRef, type ParsedClaim } from './claim.js';
export { claimsFold } from './claims-fold.js';
export { dateOfDay, dayOf, dayOfTime } from './dates.js';
export { allFlags, providerOutliers, VisitLevels, OUTLIER_CHI2, OUTLIER_MIN_VISITS, VISIT_CODES } from './fraud.js';
export { parsePolicy, POLICY_STEP_BUDGET, type Edit, type Policy, type ServiceTerms } from './policy.js';
export { claimResponseOf } from './response.js';
export {
	compileRule,
	MAX_DEPTH,
	MAX_ITEMS,
	MAX_NODES,
	RULE_CODES,
	RuleError,
	ruleHolds,
	ruleText,
	STEP_BUDGET,
	type Logic,
	type RuleCode
} from './rule-logic.js';
export { SAMPLE_CODE_PAIRS, SAMPLE_EDITS, SAMPLE_SERVICES, samplePolicy, type SampleService } from './sample.js';
export type * from './claims-state.js';
export {
	accumOf,
	allClaims,
	claimById,
	claimPlace,
	claimsOfPatient,
	comparePlace,
	deathsOf,
	FlagList,
	ignoredOf,
	knownKey,
	pageRowOf,
	PAGES_PER_ROW,
	paymentsOf,
	peekClaim,
	recordedFlags,
	remittancesOf,
	viewPage
} from './claims-state.js';
export { readClaimsState, readCoveragesOf, readPagesByKey, readPatientPages } from './claims-read.js';
export { CLAIM_ID, CLAIM_ROLES, CONTRACT_RULES, PAYMENT_ROLES } from './transactions.js';
