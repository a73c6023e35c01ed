/**
 * Stable reason codes. A code is part of the protocol: nodes report them to each other
 * and to the UI, so a code is never renamed or reused for another meaning.
 */
export const REASON_CODES = [
	/** Encoded block exceeds {@link MAX_BLOCK_BYTES}. */
	'TOO_LARGE',
	/** Bytes are not the one canonical CBOR encoding of their value. */
	'NON_CANONICAL',
	/** Canonical CBOR, but not shaped like a block (missing field, wrong type, bad tx shape). */
	'MALFORMED',
	/** The id carried with the block is not the hash of its body. */
	'BAD_HASH',
	/** The signature does not verify for the author over the id. */
	'BAD_SIGNATURE',
	/** The block belongs to another network (or is a genesis that is not this network's). */
	'WRONG_NETWORK',
	/** Already stored: a replay, counted but harmless. */
	'DUPLICATE',
	/** The author's earlier blocks are missing (parked until they arrive). */
	'SEQ_GAP',
	/** `prev` is not the hash of the author's block at `seq - 1`. */
	'PREV_MISMATCH',
	/** A second, different, validly signed block at an (author, seq) already taken. */
	'EQUIVOCATION',
	/** Some `deps` are unknown (parked until they arrive). */
	'MISSING_DEPS',
	/** `clock` is not 1 + the maximum clock of `prev` and `deps`. */
	'BAD_CLOCK',
	/** The author is not a member at the block's causal position. */
	'NOT_A_MEMBER',
	/** A transaction breaks its type's rules. */
	'TX_INVALID',
	/** The author is a member, but its role may not sign this transaction type. */
	'NOT_AUTHORIZED'
] as const;

export type ReasonCode = (typeof REASON_CODES)[number];

/** Codes that park a block in the pending pool instead of rejecting it outright. */
export const PARKING_CODES: ReadonlySet<ReasonCode> = new Set(['SEQ_GAP', 'MISSING_DEPS']);

/**
 * The base of every error the app raises on purpose: `code` is stable (tests and callers
 * branch on it, never on the wording), the message is a sentence for people. Errors that
 * are not a `CodedError` are bugs or the platform's (IndexedDB, WebRTC) and are shown as
 * they come.
 */
export class CodedError extends Error {
	override name = 'CodedError';
	constructor(
		readonly code: string,
		message: string,
		options?: { cause?: unknown }
	) {
		super(message, options);
	}
}

/** An error carrying a stable {@link ReasonCode}; `detail` is for humans. */
export class LedgerError extends CodedError {
	override readonly name = 'LedgerError';
	declare readonly code: ReasonCode;
	constructor(
		code: ReasonCode,
		readonly detail: string
	) {
		super(code, `${code}: ${detail}`);
	}
}

/** Any thrown value as one sentence for the UI, with the reason code where there is one. */
export function describeError(error: unknown): string {
	if (error instanceof LedgerError) return `${error.detail} (${error.code})`;
	if (error instanceof Error) return error.message;
	return String(error);
}
