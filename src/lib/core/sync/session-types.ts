/** The shapes a sync session (session.ts) is made with, reports and counts. */
import type { ReasonCode } from '../errors.js';
import type { Ledger, Rejection } from '../ledger.js';
import type { AuthorId } from '../types.js';
import type { Link } from './link.js';
import type { Message } from './messages.js';

export interface SessionOptions {
	ledger: Ledger;
	link: Link;
	/** Transport-level peer id, used to attribute received blocks and rejections. */
	label: string;
	now?: () => number;
	randomBytes?: (n: number) => Uint8Array;
	/** Resend hello / vector after this long without progress (ms, default 2000). */
	retryMs?: number;
	/** Blocks in flight before the sender waits for acks (default 2000). */
	window?: number;
	/** Blocks per ledger.receive call (default 500). */
	batch?: number;
}

export type SessionEvent =
	| { type: 'ready'; author: AuthorId }
	/** This node refused the peer (not a member here); the link stays, the peer may be admitted later. */
	| { type: 'guest'; author: AuthorId; reason: string }
	/** The peer refused this node (`denied`); the link stays until it admits us or leaves. */
	| { type: 'refused'; reason: string }
	/** A `join` (from a guest) or `join-reply` (to us), for the application. */
	| { type: 'join'; data: Uint8Array }
	| { type: 'join-reply'; data: Uint8Array }
	| { type: 'progress'; received: number; expected: number }
	| { type: 'caught-up' }
	| { type: 'rejected'; rejection: Rejection }
	| { type: 'closed'; reason: string }
	| { type: 'log'; message: string };

/** Counters shown in the network view. */
export interface SessionStats {
	framesIn: number;
	framesOut: number;
	bytesIn: number;
	bytesOut: number;
	blocksIn: number;
	blocksOut: number;
	accepted: number;
	protocolErrors: number;
	rejected: Partial<Record<ReasonCode, number>>;
}

/** Where a session stands: see {@link SyncSession.state}. */
export type SessionState = 'handshake' | 'ready' | 'guest' | 'refused' | 'closed';

/**
 * What the parts of a session (handshake, vectors, streams, wants, forks) share: the
 * session's ledger, link, clock and counters, and the few things they may do to it.
 */
export interface SessionCore {
	readonly ledger: Ledger;
	readonly link: Link;
	readonly label: string;
	/** Resend period (ms): every wait and backoff is counted in these. */
	readonly retryMs: number;
	readonly stats: SessionStats;
	state(): SessionState;
	setState(state: SessionState): void;
	now(): number;
	/** Sends one message; false when the link is closed or the send failed (the session is closed then). */
	send(msg: Message): boolean;
	/** Sends blocks packed into as few frames as fit; a block larger than a frame goes in parts. */
	sendBlocks(list: readonly Uint8Array[]): void;
	emit(event: SessionEvent): void;
	/** Counts a protocol error against the peer; past the limit the session closes. */
	protocolError(detail: string): void;
	close(reason: string): void;
}
