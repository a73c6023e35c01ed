/**
 * The receiving side of a sync session: blocks (whole or in parts) queue in a bounded
 * inbox, are validated by the ledger in batches (two at a time: one checked while the
 * previous is written), and acknowledged in order
 * (flow control); catch-up progress, refusals and the duplicate and bad-block budgets are
 * counted here. A peer that ignores flow control or floods bad blocks is disconnected.
 */
import { toHex } from '../bytes.js';
import type { ReasonCode } from '../errors.js';
import type { ReceiveResult, Rejection } from '../ledger.js';
import { PartsAssembler } from './block-parts.js';
import type { Message } from './messages.js';
import {
	BATCH_BYTES,
	DUPLICATE_BURST,
	DUPLICATES_PER_SECOND,
	MAX_BAD_BLOCKS,
	MAX_INBOX_BLOCKS,
	MAX_INBOX_BYTES,
	PARTS_TIMEOUT_RETRIES,
	RECEIVE_DEPTH
} from './session-limits.js';
import type { SessionCore } from './session-types.js';
import { TokenBucket } from './token-bucket.js';

/** What the receiving side asks of the rest of the session. */
export interface IncomingHooks {
	/** Blocks from the peer were accepted. */
	accepted(): void;
	/** Asks for missing dependencies. */
	requestMissing(): void;
	/** A stream ended and the inbox drained; `onlyRefusals` when it brought nothing but refused blocks. */
	streamDone(onlyRefusals: boolean): void;
}

/** Blocks (in parts or cut short) whose bytes cannot hold an id are left to validation to refuse. */
function claimedId(bytes: Uint8Array): string | null {
	return bytes.length >= 35 && bytes[0] === 0x83 && bytes[1] === 0x58 && bytes[2] === 0x20 ? toHex(bytes.subarray(3, 35)) : null;
}

export class IncomingStream {
	#core: SessionCore;
	#hooks: IncomingHooks;
	/** Blocks per ledger.receive call. */
	#batch: number;
	#inbox: Uint8Array[] = [];
	#inboxBytes = 0;
	/** Ids in the inbox or being validated: a second copy is a duplicate, never validated twice. */
	#inflight = new Set<string>();
	#processing: Promise<void> | null = null;
	#processed = 0;
	#expected = 0;
	#received = 0;
	#streamOpen = false;
	#parts = new PartsAssembler();
	#badBlocks = 0;
	/** Copies of stored blocks received on this session. */
	#storedDuplicates = 0;
	#duplicates: TokenBucket;
	/** Blocks accepted and refused since the last offer: a stream that brought only refusals is not asked for again at once. */
	#streamAccepted = 0;
	#streamRefused = 0;

	constructor(core: SessionCore, hooks: IncomingHooks, batch: number, start: number) {
		this.#core = core;
		this.#hooks = hooks;
		this.#batch = batch;
		this.#duplicates = new TokenBucket(DUPLICATE_BURST, DUPLICATES_PER_SECOND / 1000, start);
	}

	/** Catch-up progress of the stream this node is receiving. */
	get progress() {
		return { received: this.#received, expected: this.#expected, streaming: this.#streamOpen };
	}

	/** Blocks are waiting for or under validation. */
	get busy(): boolean {
		return this.#processing !== null || this.#inbox.length > 0;
	}

	/** A stream is open and its frames still arrive (the peer was heard from within two retry periods). */
	receiving(now: number, lastSeen: number): boolean {
		return this.#streamOpen && now - lastSeen < this.#core.retryMs * 2;
	}

	/** Drops what waits for validation: nobody will ack it, and a pump that saw it after a close would start again for ever. */
	clear(): void {
		this.#inbox = [];
		this.#inboxBytes = 0;
		this.#inflight.clear();
		this.#parts.clear();
	}

	onOffer(count: number): void {
		this.#streamAccepted = 0;
		this.#streamRefused = 0;
		this.#expected = count;
		this.#received = 0;
		this.#streamOpen = count > 0;
		this.#core.emit({ type: 'progress', received: 0, expected: count });
	}

	onEnd(): void {
		this.#streamOpen = false;
		this.#afterStream();
	}

	onPart(msg: Extract<Message, { m: 'part' }>): void {
		const result = this.#parts.add(msg, this.#core.now());
		if (result === null) return;
		if ('problem' in result) this.#core.protocolError(result.problem);
		else this.enqueue(result.whole);
	}

	/** Drops blocks in parts that stopped arriving: their pieces would otherwise be held for ever. */
	expireParts(now: number): void {
		for (const { id, have, total, ageMs } of this.#parts.expire(now, this.#core.retryMs * PARTS_TIMEOUT_RETRIES)) {
			this.#core.emit({
				type: 'log',
				message: `block ${id.slice(0, 8)} from ${this.#core.label} dropped: ${have} of ${total} parts after ${Math.round(ageMs / 1000)} s`
			});
		}
	}

	enqueue(bytes: Uint8Array): void {
		const core = this.#core;
		if (core.state() === 'closed') return;
		core.stats.blocksIn++;
		const id = claimedId(bytes);
		if (id !== null && this.#inflight.has(id)) {
			this.#duplicate();
			return;
		}
		if (this.#inbox.length >= MAX_INBOX_BLOCKS || this.#inboxBytes + bytes.length > MAX_INBOX_BYTES) {
			core.close(
				`flow control ignored: more than ${this.#inbox.length} blocks (${Math.round(this.#inboxBytes / 1048576)} MiB) waiting for validation`
			);
			return;
		}
		if (id !== null) this.#inflight.add(id);
		this.#inbox.push(bytes);
		this.#inboxBytes += bytes.length;
		this.#pump();
	}

	/** A copy of a block already held or already waiting: free within the budget, then counted as bad. */
	#duplicate(): void {
		if (this.#duplicates.take(this.#core.now())) return;
		this.#badBlock('DUPLICATE');
	}

	#badBlock(code: ReasonCode): void {
		if (++this.#badBlocks > MAX_BAD_BLOCKS) this.#core.close(`too many invalid blocks (${this.#badBlocks}, last: ${code})`);
	}

	#isClosed(): boolean {
		return this.#core.state() === 'closed';
	}

	/** Takes the next batch off the inbox: at most `#batch` blocks and BATCH_BYTES. */
	#takeBatch(): Uint8Array[] {
		let take = 0;
		let bytes = 0;
		while (take < this.#inbox.length && take < this.#batch && bytes < BATCH_BYTES) bytes += this.#inbox[take++]!.length;
		this.#inboxBytes -= bytes;
		return this.#inbox.splice(0, take);
	}

	/**
	 * Validates the inbox in batches, RECEIVE_DEPTH batches handed to the ledger at once:
	 * the ledger checks the signatures of the next batch while the previous one is being
	 * written. Results are taken (and acknowledged) in the order the batches were sent.
	 */
	#pump(): void {
		if (this.#processing || this.#isClosed()) return;
		const inFlight: { batch: Uint8Array[]; result: Promise<ReceiveResult> }[] = [];
		this.#processing = (async () => {
			try {
				while ((this.#inbox.length > 0 || inFlight.length > 0) && !this.#isClosed()) {
					while (inFlight.length < RECEIVE_DEPTH && this.#inbox.length > 0) {
						const batch = this.#takeBatch();
						const result = this.#core.ledger.receive(batch, this.#core.label);
						result.catch(() => undefined); // awaited in turn below
						inFlight.push({ batch, result });
					}
					const { batch, result } = inFlight[0]!;
					const outcome = await result;
					inFlight.shift();
					this.#release(batch);
					// The session may have closed while the batch was validated.
					if (this.#isClosed()) return;
					this.#afterReceive(batch.length, outcome.accepted.length, outcome.duplicates, outcome.rejected);
				}
			} finally {
				for (const { batch } of inFlight) this.#release(batch);
			}
		})().finally(() => {
			this.#processing = null;
			// Only an open session goes on: after a close the inbox is empty and stays so.
			if (this.#isClosed()) return;
			if (this.#inbox.length > 0) this.#pump();
			else this.#afterStream();
		});
	}

	/** A validated batch's ids leave the in-flight set: a later copy is judged (as a duplicate) by the ledger. */
	#release(batch: readonly Uint8Array[]): void {
		for (const b of batch) {
			const id = claimedId(b);
			if (id !== null) this.#inflight.delete(id);
		}
	}

	#afterReceive(count: number, accepted: number, duplicates: number, rejected: readonly Rejection[]): void {
		const core = this.#core;
		this.#processed += count;
		core.stats.accepted += accepted;
		this.#streamAccepted += accepted;
		if (accepted > 0) this.#hooks.accepted();
		if (this.#streamOpen || this.#expected > 0) {
			this.#received = Math.min(this.#expected, this.#received + count);
			core.emit({ type: 'progress', received: this.#received, expected: this.#expected });
		}
		core.send({ m: 'ack', n: this.#processed });
		for (let i = 0; i < duplicates && !this.#isClosed(); i++) if (++this.#storedDuplicates > core.ledger.size) this.#duplicate();
		for (const rejection of rejected) {
			if (this.#isClosed()) return;
			core.stats.rejected[rejection.code] = (core.stats.rejected[rejection.code] ?? 0) + 1;
			core.emit({ type: 'rejected', rejection });
			this.#streamRefused++;
			if (rejection.code === 'DUPLICATE') this.#duplicate();
			else this.#badBlock(rejection.code);
		}
		if (!this.#isClosed()) this.#hooks.requestMissing();
	}

	/** After a stream ends and the inbox is drained: done, or ask again for what is still missing. */
	#afterStream(): void {
		if (this.#streamOpen || this.#processing || this.#inbox.length > 0) return;
		if (this.#expected > 0) {
			this.#expected = 0;
			this.#core.emit({ type: 'caught-up' });
		}
		// A stream that brought only refused blocks would bring the same ones again: leave
		// the retry to `tick`, with a wait that doubles each time.
		const onlyRefusals = this.#streamRefused > 0 && this.#streamAccepted === 0;
		if (onlyRefusals) this.#streamRefused = 0;
		this.#hooks.streamDone(onlyRefusals);
	}
}
