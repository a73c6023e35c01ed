/**
 * The types the node's managers share and show: its status, the block view, the public
 * identity, what it tells its sync layer, and the context each manager of the node gets
 * from the node's lifecycle (state/node.svelte.ts).
 */
import type { AuthorId, BlockId, Ledger, LedgerStore, ReasonCode, Rejection, Signer } from '$lib/core/index.js';
import type { Keyring } from '$lib/domain/records/keyring.js';
import type { InviteLink } from '$lib/domain/invites.js';
import type { NetworkConfig } from '$lib/domain/network-config.js';
import type { NetworkLink } from '$lib/domain/network-link.js';
import type { TxSummary } from '$lib/domain/tx-summary.js';

/** 'setup': choose a passphrase (first run, or a key kept in clear); 'locked': unlock the stored key. */
export type NodeStatus = 'loading' | 'setup' | 'locked' | 'no-network' | 'ready' | 'error';

/**
 * How far this node has checked a block in this session: `verified` when it was accepted
 * (validated on the way in) or passed a full verification, `failed` when a verification
 * found it broken, `unchecked` when it was loaded from storage and not yet re-verified.
 */
export type BlockCheck = 'verified' | 'failed' | 'unchecked';

/** A block as the ledger view shows it. */
export interface BlockView {
	readonly id: BlockId;
	readonly author: AuthorId;
	readonly seq: number;
	readonly clock: number;
	/** Advisory wall-clock time of the author, ms. */
	readonly time: number;
	readonly txs: readonly TxSummary[];
	readonly check: BlockCheck;
	readonly failure?: { readonly code: ReasonCode; readonly detail: string };
	/** Why the block has no effect (its author was revoked before it), when it has none. */
	readonly void?: string;
}

/** The public half of the node identity; the secret key never reaches the UI. */
export interface NodeIdentity {
	readonly author: AuthorId;
	readonly createdAt: number;
}

export interface VerificationResult {
	readonly checked: number;
	readonly failures: readonly Rejection[];
	readonly finishedAt: number;
}

/** A full re-check of the stored ledger: automatic on open, or asked for. */
export interface Verification {
	readonly trigger: 'open' | 'manual';
	readonly running: boolean;
	readonly checked: number;
	readonly total: number;
	readonly result: VerificationResult | null;
	readonly error: string | null;
}

/**
 * What the node tells its sync layer (state/sync.svelte.ts): start with this ledger and
 * these settings (again, after the settings changed), and stop before the ledger closes.
 */
export interface SyncControl {
	/** `keyring` opens rotated room secrets (domain/room-secret.ts). */
	start(ledger: Ledger, config: NetworkConfig, keyring?: Keyring | null): Promise<void>;
	/** The room secret links and invites made now carry (the newest room's); null while not syncing. */
	currentSecret?(): string | null;
	stop(): Promise<void>;
	/** This node's signed join request, sent to peers that refuse it; null once admitted. */
	setJoinRequest?(request: Uint8Array | null): void;
	/** Answers a received join request as refused. */
	refuseJoin?(key: AuthorId, message: string): void;
}

/** An invite this node just made, to show as a link and QR code. */
export interface MadeInvite {
	readonly url: string;
	readonly role: string;
	readonly label: string;
	readonly expires: number;
}

/** A network link from the address bar, waiting for the person to act on it. */
export interface PendingLink {
	readonly link: NetworkLink;
	/** 'join': this browser holds no network yet; 'adopt': same network, this node has no sync settings. */
	readonly action: 'join' | 'adopt';
	/** Set when the link is an invite (signed by an admin, with a one-time token). */
	readonly invite?: InviteLink;
}

/** What the node's lifecycle gives each of its managers (never the UI). */
export interface NodeContext {
	readonly status: NodeStatus;
	/** The open ledger, once there is one. */
	readonly ledger: Ledger | null;
	readonly signer: Signer | null;
	/** The store, open once the key is unlocked (empty until a network is founded or joined). */
	readonly store: LedgerStore | null;
	readonly sync: SyncControl | null;
	/** The network's name as this node knows it ('' before it does). */
	readonly networkName: string;
	/** Resolves once the view shows every block accepted so far. */
	settled(): Promise<void>;
	/** Shows the ledger just founded or joined (the node becomes 'ready'); `verified`: blocks checked as they were stored. */
	attach(ledger: Ledger, verified?: readonly BlockId[]): Promise<void>;
	/** (Re)starts sync with the current settings. */
	restartSync(): Promise<void>;
	/** Something went wrong outside any form: shown as the node's error. */
	report(message: string): void;
}
