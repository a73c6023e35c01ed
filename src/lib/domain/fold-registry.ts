/**
 * Folds the app keeps besides the core's summary. A fold is local state (nothing a peer
 * checks), so adding one only costs a refold from the start on the next open.
 */
import type { Fold, IndexFold } from '$lib/core/index.js';
import { auditIndex } from './records/audit-index.js';
import { patientDemographicsIndex, patientRecordsIndex, recordVersionsIndex } from './records/record-index.js';
import { invitesFold } from './invites.js';
import { memberClinicsFold, memberNamesFold } from './members.js';
import { consentsIndex } from './privacy/access.js';
import { directoryFold } from './records/directory.js';
import { keyWrapsIndex } from './records/key-index.js';
import { recordsFold } from './records/fold.js';
import { researchFold, researchStudiesIndex } from './research/fold.js';
import { claimsFold } from './contracts/claims-fold.js';
import { claimBlocksIndex, claimPatientsIndex } from './contracts/claim-index.js';
import { supplyFold } from './supply/fold.js';
import { lotIndex } from './supply/lot-index.js';
import { serialIndex } from './supply/serial-index.js';
import { roomRotationsFold } from './room-secret.js';

export const APP_FOLDS: readonly Fold<unknown>[] = [
	memberNamesFold as Fold<unknown>,
	memberClinicsFold as Fold<unknown>,
	invitesFold as Fold<unknown>,
	recordsFold as Fold<unknown>,
	directoryFold as Fold<unknown>,
	researchFold as Fold<unknown>,
	claimsFold as Fold<unknown>,
	supplyFold as Fold<unknown>,
	roomRotationsFold as Fold<unknown>
];

/** Index folds: state kept in the store by key and read a page at a time (core index-fold.ts). */
export const APP_INDEXES: readonly IndexFold[] = [
	auditIndex,
	lotIndex,
	// The serials given: the supply fold reads a dose's serial's earlier uses (supply/serial-index.ts).
	serialIndex,
	recordVersionsIndex,
	patientRecordsIndex,
	patientDemographicsIndex,
	keyWrapsIndex,
	// Consent by patient and grant id: read for the patients a decision is about (privacy/access.ts).
	consentsIndex,
	claimPatientsIndex,
	// The blocks of each key of the keyed folds (core/fold.ts FoldKeys): re-applied when a block lands late.
	claimBlocksIndex,
	researchStudiesIndex
];
