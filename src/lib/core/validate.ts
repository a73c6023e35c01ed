/**
 * Block validation, cheap to expensive, each failure a stable reason code:
 * size → strict canonical check → hash → signature → shape → network → author chain →
 * deps → clock → membership at the block's causal position → transaction rules.
 *
 * The steps up to "network" need nothing but the bytes ({@link checkIntrinsic}); the rest
 * ask a {@link ValidationContext} about blocks already accepted ({@link checkInContext}).
 * The ledger runs the first part for a whole batch in parallel, then the second in order.
 */
import { hashBody, openBlock, readBlock, type OpenedBlock } from './block.js';
import { bytesEqual, toHex } from './bytes.js';
import type { Verifier } from './crypto/verifier.js';
import { LedgerError, type ReasonCode } from './errors.js';
import type { AuthorId, Block, BlockId } from './types.js';

/** What validation needs to know about an accepted block. */
export interface BlockMeta {
	readonly id: BlockId;
	readonly author: AuthorId;
	readonly seq: number;
	readonly clock: number;
}

/** Answers about the accepted ledger, as of the block being validated. */
export interface ValidationContext {
	/** This network's id (the genesis id). */
	readonly net: BlockId;
	readonly verifier: Verifier;
	/** The accepted block with this id, if any. */
	meta(id: BlockId): Promise<BlockMeta | undefined>;
	/** The accepted block of `author` at `seq`, if any. */
	at(author: AuthorId, seq: number): Promise<BlockMeta | undefined>;
	/** Highest accepted seq of `author`, -1 when none. */
	headSeq(author: AuthorId): Promise<number>;
	/**
	 * Membership and transaction rules for a block whose chain, deps and clock are valid,
	 * judged by the block's causal past alone. Returns null when the block is admissible,
	 * otherwise the code and a detail.
	 */
	admit(block: Block): Promise<{ code: 'NOT_A_MEMBER' | 'TX_INVALID' | 'NOT_AUTHORIZED'; detail: string } | null>;
	/**
	 * Why an admissible block has no effect, judged with everything the node holds
	 * (revocation and role cut-offs, equivocation; `fork` names another block already
	 * held at the block's (author, seq)); undefined when it counts.
	 */
	voidReason?(block: Block, fork: BlockId | undefined): Promise<string | undefined>;
}

/**
 * Which block a refusal is about: the id and author it claims. A block refused for its
 * hash or signature is never built, so this is all a refusal can carry.
 */
export interface BlockRef {
	readonly id: BlockId;
	readonly author: AuthorId;
}

export type ValidationResult =
	/**
	 * `void`: the block is kept (honest blocks may build on it) but its transactions have
	 * no effect; the text says why. `fork`: another block at the same (author, seq) is held.
	 */
	| { ok: true; block: Block; void?: string; fork?: BlockId }
	| { ok: false; code: ReasonCode; detail: string; block?: BlockRef; missing?: BlockId[] };

const reject = (code: ReasonCode, detail: string, block?: BlockRef, missing?: BlockId[]): ValidationResult => ({
	ok: false,
	code,
	detail,
	...(block ? { block } : {}),
	...(missing ? { missing } : {})
});

/**
 * Everything that depends on the bytes alone: size, canonical decoding, hash, signature,
 * shape, network. `net` is this network's id.
 *
 * The hash and the signature are checked on the raw body before any of its values is
 * built, so an unsigned input costs one pass over its bytes, one hash and at most one
 * verification, whatever it holds (docs/validation.md).
 */
export async function checkIntrinsic(bytes: Uint8Array, net: BlockId, verifier: Verifier): Promise<ValidationResult> {
	let opened: OpenedBlock;
	try {
		opened = openBlock(bytes);
	} catch (error) {
		return refusal(error);
	}
	const claimed: BlockRef = { id: toHex(opened.id) as BlockId, author: toHex(opened.author) as AuthorId };
	if (!bytesEqual(hashBody(opened.body), opened.id)) return reject('BAD_HASH', 'the id is not the hash of the body', claimed);
	if (!(await verifier.verify(opened.signature, opened.id, opened.author))) {
		return reject('BAD_SIGNATURE', `signature does not verify for author ${claimed.author.slice(0, 12)}`, claimed);
	}
	let block: Block;
	try {
		block = readBlock(opened);
	} catch (error) {
		return refusal(error, claimed);
	}
	if (block.net === null ? block.id !== net : block.net !== net) {
		return reject('WRONG_NETWORK', `block belongs to network ${(block.net ?? block.id).slice(0, 12)}`, block);
	}
	return { ok: true, block };
}

/** A decoding failure as a refusal; anything but a {@link LedgerError} is a defect, reported as `MALFORMED`. */
function refusal(error: unknown, claimed?: BlockRef): ValidationResult {
	if (error instanceof LedgerError) return reject(error.code, error.detail, claimed);
	return reject('MALFORMED', (error as Error).message, claimed);
}

/**
 * The checks that need the accepted ledger: duplicate, author chain, deps, clock,
 * membership and transaction rules. Assumes {@link checkIntrinsic} passed.
 *
 * Whether a block is stored depends only on the block and its causal past (so every node
 * that sees it decides the same, whatever else it holds); whether it has an effect may
 * depend on blocks outside its past (a concurrent revocation or demotion, an
 * equivocation): such a block is accepted `void`. See docs/validation.md.
 */
export async function checkInContext(block: Block, context: ValidationContext): Promise<ValidationResult> {
	if (await context.meta(block.id)) return reject('DUPLICATE', 'already stored', block);
	const head = await context.headSeq(block.author);
	// A block parked for its prev waits for its missing deps too: released when one of them
	// arrives, it then has no predecessor to look for that is not known to be missing.
	const missingDeps = async () => {
		const missing: BlockId[] = [];
		for (const dep of block.deps) if (!(await context.meta(dep))) missing.push(dep);
		return missing;
	};
	if (block.seq > head + 1) {
		return reject('SEQ_GAP', `seq ${block.seq} after head ${head}`, block, block.prev ? [block.prev, ...(await missingDeps())] : []);
	}
	// Another block at this (author, seq): equivocation. Both are kept (as void from the
	// fork on), so that honest blocks built on either version can be accepted everywhere.
	const other = await context.at(block.author, block.seq);
	let maxClock = -1;
	if (block.prev !== null) {
		const prev = await context.meta(block.prev);
		// Unknown prev below the head: a version of the author's chain not held yet.
		if (!prev) return reject('SEQ_GAP', `prev ${block.prev.slice(0, 12)} is not held yet`, block, [block.prev, ...(await missingDeps())]);
		if (prev.author !== block.author || prev.seq !== block.seq - 1)
			return reject('PREV_MISMATCH', `prev is not the author's block at seq ${block.seq - 1}`, block);
		maxClock = prev.clock;
	}
	const missing: BlockId[] = [];
	for (const dep of block.deps) {
		const meta = await context.meta(dep);
		if (!meta) {
			missing.push(dep);
			continue;
		}
		if (meta.author === block.author) return reject('MALFORMED', "deps must name other authors' blocks", block);
		maxClock = Math.max(maxClock, meta.clock);
	}
	if (missing.length > 0) return reject('MISSING_DEPS', `${missing.length} unknown dep(s)`, block, missing);
	if (block.clock !== maxClock + 1) return reject('BAD_CLOCK', `clock ${block.clock}, expected ${maxClock + 1}`, block);
	const refusal = await context.admit(block);
	if (refusal) return reject(refusal.code, refusal.detail, block);
	const why = context.voidReason ? await context.voidReason(block, other?.id) : undefined;
	return { ok: true, block, ...(why !== undefined ? { void: why } : {}), ...(other ? { fork: other.id } : {}) };
}

/** Full validation of one block against a context. See the module comment for the order. */
export async function validateBlock(bytes: Uint8Array, context: ValidationContext): Promise<ValidationResult> {
	const intrinsic = await checkIntrinsic(bytes, context.net, context.verifier);
	if (!intrinsic.ok) return intrinsic;
	return checkInContext(intrinsic.block, context);
}
