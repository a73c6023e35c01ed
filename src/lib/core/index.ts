/**
 * Public entry of the ledger core: framework-free, usable from Node and the browser.
 * Import from here, not from the modules behind it.
 */
export { toHex, fromHex, bytesEqual, compareBytes } from './bytes.js';
export { encodeCanonical, decodeCanonical, type CborValue } from './codec.js';
export { REASON_CODES, PARKING_CODES, CodedError, LedgerError, describeError, type ReasonCode } from './errors.js';
export type { AuthorId, Block, BlockId, Head, Tx, VersionVector } from './types.js';
export {
	BLOCK_DOMAIN,
	BLOCK_VERSION,
	MAX_BLOCK_BYTES,
	MAX_DEPS,
	MAX_TXS,
	createBlock,
	createGenesis,
	decodeBlock,
	hashBody,
	normalizeDeps,
	type BlockInput,
	type GenesisOptions
} from './block.js';
export {
	checkInContext,
	checkIntrinsic,
	validateBlock,
	type BlockMeta,
	type ValidationContext,
	type ValidationResult
} from './validate.js';
export { ADMIN, effectiveChanges, membershipEventsOf, membershipOf, quorumOf, type MembershipEvent, type Roster } from './membership.js';
export { CORE_RULES, type TxRule, type TxRuleContext } from './rules.js';
export {
	summaryFold,
	type Causal,
	type Fold,
	type FoldContext,
	type FoldKeys,
	type FoldPages,
	type FoldReads,
	type PageSet,
	type SharedPiece,
	type Summary
} from './fold.js';
export {
	compareFactPosition,
	factPosition,
	factRows,
	isFactKey,
	type Fact,
	type FactPosition,
	type FactRow,
	type IndexFold
} from './index-fold.js';
export { Ledger, type LedgerEvents, type LedgerOptions, type OpenProgress, type ReceiveResult, type Rejection } from './ledger.js';
export {
	compareOrder,
	orderKey,
	type Checkpoint,
	type Evidence,
	type LedgerStore,
	type OrderKey,
	type StoredBlock
} from './storage/store.js';
export { MemoryStore } from './storage/memory.js';
export { StoredPages, type PageBytes, type PagesCheckpointForm } from './ledger/stored-pages.js';
export { PageUnion } from './ledger/page-union.js';
export { IndexedDBStore, SCHEMA_VERSION, type IndexedDBStoreOptions } from './storage/indexeddb.js';
export { generateSecretKey, publicKeyOf, precheckSignature, signNoble, verifyNoble } from './crypto/ed25519.js';
export {
	createSigner,
	createWebCryptoVerifier,
	detectVerifier,
	nobleSigner,
	nobleVerifier,
	type Signer,
	type Verifier
} from './crypto/verifier.js';
export { generateKeyPair, type KeyPair } from './keys.js';
export { challengeDigest } from './challenge.js';
export { PROTOCOL_VERSION, MAX_FRAME_BYTES, ProtocolError, decodeMessage, encodeMessage, type Message } from './sync/messages.js';
export { memoryLinkPair, type FrameScheduler, type Link } from './sync/link.js';
export { SyncSession } from './sync/session.js';
export type { SessionEvent, SessionOptions, SessionStats } from './sync/session-types.js';
export { Replicator, type ReplicatorEvent, type ReplicatorOptions } from './sync/replicator.js';
export { Rooms, type RoomSpec } from './sync/rooms.js';
export {
	createWorkerPoolVerifier,
	createWorkerVerifier,
	sharedWorkerVerifier,
	type VerifyPort,
	type WorkerVerifier
} from './crypto/worker-verifier.js';
export { createPortSigner, createWorkerSigner, type SignPort, type WorkerSigner } from './crypto/worker-signer.js';
