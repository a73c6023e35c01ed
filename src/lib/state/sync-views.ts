/**
 * What the sync managers show (state/sync.svelte.ts and the parts beside it): the view
 * types the network panel, the peer list, the refusals and the log are drawn from, and
 * the small counts they are computed with.
 */
import type { AuthorId, BlockId, ReasonCode, SyncSession, VersionVector } from '$lib/core/index.js';
import type { JoinRequest } from '$lib/domain/invites.js';

/** A join request received from a guest, checked against this node's ledger, waiting for an admin. */
export interface JoinRequestView {
	readonly request: JoinRequest;
	/** Role and label of the invite it uses. */
	readonly role: string;
	readonly inviteLabel: string | null;
	/** Hex of the invite's token hash. */
	readonly invite: string;
	readonly receivedAt: number;
}

export type LinkKind = SyncSession['linkKind'];

/** One peer node as the network panel shows it. */
export interface PeerView {
	/** Author key when the handshake told it, else the transport's id for the connection. */
	readonly key: string;
	readonly author: AuthorId | null;
	/** Member name from this node's copy of the ledger, when known. */
	readonly name: string | null;
	/** Role in this node's roster; null when not a member here. */
	readonly role: string | null;
	readonly kind: LinkKind;
	/** 'handshake' while connecting, 'ready' while syncing, 'closed' once gone. */
	readonly state: SyncSession['state'];
	readonly online: boolean;
	/** When a frame last arrived from it (ms since the epoch); null if never. */
	readonly lastSeen: number | null;
	/** Blocks the peer holds, as far as this node knows (from its version vector). */
	readonly theirBlocks: number;
	/** Blocks this node holds that the peer lacks. */
	readonly theyLack: number;
	/** Blocks the peer holds that this node lacks. */
	readonly weLack: number;
	/** Catch-up stream from this peer, while one runs. */
	readonly progress: { readonly received: number; readonly expected: number } | null;
	readonly lastCatchUp: CatchUp | null;
	readonly blocksIn: number;
	readonly blocksOut: number;
	/** Refused blocks from this peer, all reasons. */
	readonly refused: number;
	/** Sent blocks this node refused, or caught equivocating. */
	readonly flagged: boolean;
	/** Why the session ended, when it did. */
	readonly closeReason: string | null;
	/** Round-trip time of the WebRTC connection (ms, from the browser's ICE statistics), when known. */
	readonly rttMs: number | null;
}

/** A finished catch-up: how many blocks came in and how long it took. */
export interface CatchUp {
	readonly blocks: number;
	readonly ms: number;
	readonly at: number;
}

/** Blocks refused from one peer for one reason. */
export interface RefusalView {
	/** Author key of the sender, or the transport id if the handshake had not told it. */
	readonly peer: string;
	readonly author: AuthorId | null;
	readonly name: string | null;
	readonly code: ReasonCode;
	/** Distinct blocks refused (a peer may send the same bad block again and again). */
	readonly count: number;
	/** Times a block was refused, repeats included. */
	readonly attempts: number;
	readonly lastDetail: string;
	readonly lastBlock: BlockId | null;
	readonly lastAt: number;
}

export interface LogLine {
	readonly at: number;
	readonly text: string;
	readonly tone: 'info' | 'good' | 'warn' | 'bad';
	/** How many times this same line was said in a row (1: once). */
	readonly times: number;
}

export interface ConnectionCounts {
	readonly webrtc: number;
	readonly broadcast: number;
	readonly signaling: number;
}

export type SyncStatus = 'stopped' | 'starting' | 'running';

export const short = (id: string | null | undefined): string => (id ? id.slice(0, 8) : '?');
export const blocksText = (n: number): string => `${n.toLocaleString('en')} ${n === 1 ? 'block' : 'blocks'}`;

/** Σ (seq + 1): the number of blocks a version vector stands for. */
export function blocksIn(vv: Readonly<VersionVector>): number {
	let n = 0;
	for (const seq of Object.values(vv)) n += seq + 1;
	return n;
}

/** Blocks `a` holds that `b` lacks. */
export function lacking(a: Readonly<VersionVector>, b: Readonly<VersionVector>): number {
	let n = 0;
	for (const [author, seq] of Object.entries(a)) n += Math.max(0, seq - (b[author] ?? -1));
	return n;
}
