/**
 * Transaction types the app adds to the core's, registered on every node (browser and
 * headless peer alike): a node refuses blocks with types it does not know.
 */
import type { TxRule } from '$lib/core/index.js';
import { attachmentRule } from './attachment.js';
import { clinicalNoteRule } from './legacy-clinical-note-rule.js';
import { inviteCreateRule, inviteRevokeRule } from './invites.js';
import { consentGrantRule, consentRevokeRule } from './privacy/consent.js';
import { directoryPutRule } from './records/directory.js';
import { roomRotateRule } from './room-secret.js';
import { RECORD_RULES } from './records/transactions.js';
import { STUDY_RULES } from './research/study.js';
import { CONTRACT_RULES } from './contracts/transactions.js';
import { SUPPLY_RULES } from './supply/transactions.js';

export const APP_RULES: readonly TxRule[] = [
	attachmentRule,
	clinicalNoteRule,
	inviteCreateRule,
	inviteRevokeRule,
	consentGrantRule,
	consentRevokeRule,
	...RECORD_RULES,
	directoryPutRule,
	...STUDY_RULES,
	...CONTRACT_RULES,
	...SUPPLY_RULES,
	roomRotateRule
];
