/**
 * This browser's node, as the UI sees it: the one seam between components and the core.
 * It opens the identity and the ledger, keeps a view of the blocks in total order, and
 * turns every core error into a message a person can act on.
 *
 * One browser holds one network, in the IndexedDB database {@link LEDGER_DB}. Only one
 * tab at a time runs the node (a Web Lock): two ledgers appending to one store as the
 * same author would race for the same sequence numbers.
 */
import { Keyring } from '$lib/domain/records/keyring.js';
import { encryptionSecretKey } from '$lib/domain/privacy/envelope.js';
import {
	IndexedDBStore,
	Ledger,
	LedgerError,
	describeError,
	compareOrder,
	createSigner,
	fromHex,
	nobleVerifier,
	orderKey,
	type AuthorId,
	type Block,
	type BlockId,
	type ReasonCode,
	type Rejection,
	type Signer,
	type Summary
} from '$lib/core/index.js';
import { APP_FOLDS } from '$lib/domain/fold-registry.js';
import { authorIdOf, type Identity } from '$lib/domain/identity.js';
import { InviteError, newRoomSecret, parseNetworkLink, type NetworkLink } from '$lib/domain/network-link.js';
import {
	approveTx,
	displayNameProblem,
	encodeJoinRequest,
	inviteCreateTx,
	inviteLinkUrl,
	MAX_INVITE_DAYS,
	parseInviteLink,
	signInviteLink,
	type InviteLink,
	type InviteRecord,
	type Invites,
	type JoinRequest
} from '$lib/domain/invites.js';
import {
	isMemberRole,
	memberAddTx,
	memberKeyProblem,
	memberNameProblem,
	memberViews,
	normalizeMemberKey,
	type MemberClinics,
	type MemberNames,
	type MemberView
} from '$lib/domain/members.js';
import { networkNameProblem } from '$lib/domain/network.js';
import {
	defaultSignalingUrl,
	loadNetworkConfig,
	parseSignalingList,
	saveNetworkConfig,
	signalingProblem,
	type NetworkConfig
} from '$lib/domain/network-config.js';
import { noteProblem, noteTx } from '$lib/domain/note.js';
import { APP_RULES } from '$lib/domain/rule-registry.js';
import { summarizeTx, type TxSummary } from '$lib/domain/tx-summary.js';
import { KeyState } from './keys.svelte.js';

/** The ledger database of this origin; it holds at most one network. */
export const LEDGER_DB = 'clinic-ledger';
const NODE_LOCK = 'clinic-ledger-node';

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

/** Two lists in ledger order merged into one; a block in both is kept once. */
function mergeViews(shown: readonly BlockView[], added: readonly BlockView[]): BlockView[] {
	const merged: BlockView[] = [];
	let i = 0;
	for (const view of added) {
		while (i < shown.length && compareOrder(orderKey(shown[i]!), orderKey(view)) < 0) merged.push(shown[i++]!);
		if (i < shown.length && shown[i]!.id === view.id) continue;
		merged.push(view);
	}
	while (i < shown.length) merged.push(shown[i++]!);
	return merged;
}

/** Ledger options every node of the app uses: the app's transaction types and folds. */
const APP_LEDGER = { rules: APP_RULES, folds: APP_FOLDS } as const;

export class NodeState {
	#status = $state<NodeStatus>('loading');
	get status() {
		return this.#status;
	}
	/** Why the node could not start (status 'error'). */
	#error = $state<string | null>(null);
	get error() {
		return this.#error;
	}
	/** Something the person should know while loading, e.g. another tab holds the node. */
	#notice = $state<string | null>(null);
	get notice() {
		return this.#notice;
	}
	#identity = $state.raw<NodeIdentity | null>(null);
	get identity() {
		return this.#identity;
	}
	/** The stored key: lock screen, passphrase, backup file. */
	readonly keys = new KeyState();
	#network = $state.raw<{ id: BlockId; name: string } | null>(null);
	get network() {
		return this.#network;
	}
	#verifierName = $state<string | null>(null);
	get verifierName() {
		return this.#verifierName;
	}
	/** Accepted blocks in total order (clock, id). */
	#blocks = $state.raw<BlockView[]>([]);
	get blocks() {
		return this.#blocks;
	}
	#summary = $state.raw<Summary | null>(null);
	get summary() {
		return this.#summary;
	}
	/** Blocks refused since the node opened, by reason code. */
	#rejected = $state.raw<Partial<Record<ReasonCode, number>>>({});
	get rejected() {
		return this.#rejected;
	}
	#verification = $state.raw<Verification | null>(null);
	get verification() {
		return this.#verification;
	}

	#creating = $state(false);
	get creating() {
		return this.#creating;
	}
	#createError = $state<string | null>(null);
	get createError() {
		return this.#createError;
	}
	#appending = $state(false);
	get appending() {
		return this.#appending;
	}
	#entryError = $state<string | null>(null);
	get entryError() {
		return this.#entryError;
	}
	/** The last block this node appended, once it is durable and shown. */
	#lastAppended = $state.raw<{ id: BlockId; seq: number } | null>(null);
	get lastAppended() {
		return this.#lastAppended;
	}

	/** How this node reaches its network (room secret, signaling); null before founding or joining. */
	#networkConfig = $state.raw<NetworkConfig | null>(null);
	get networkConfig() {
		return this.#networkConfig;
	}
	/** A network link opened in the address bar that the person can act on. */
	#pendingLink = $state.raw<PendingLink | null>(null);
	get pendingLink() {
		return this.#pendingLink;
	}
	/** Why a network link from the address bar cannot be used (nothing was changed). */
	#linkError = $state<string | null>(null);
	get linkError() {
		return this.#linkError;
	}
	/** Something to say about a link that needs no action (e.g. already in that network). */
	#linkNotice = $state<string | null>(null);
	get linkNotice() {
		return this.#linkNotice;
	}
	#joining = $state(false);
	get joining() {
		return this.#joining;
	}
	#joinError = $state<string | null>(null);
	get joinError() {
		return this.#joinError;
	}
	#settingsError = $state<string | null>(null);
	get settingsError() {
		return this.#settingsError;
	}
	#settingsSaved = $state(false);
	get settingsSaved() {
		return this.#settingsSaved;
	}

	/** Members of the network in this node's copy of the ledger. */
	#members = $state.raw<MemberView[]>([]);
	get members() {
		return this.#members;
	}
	/** This node's role in its copy of the roster; null while it is not (known to be) a member. */
	#role = $state<string | null>(null);
	get role() {
		return this.#role;
	}
	#addingMember = $state(false);
	get addingMember() {
		return this.#addingMember;
	}
	#memberError = $state<string | null>(null);
	get memberError() {
		return this.#memberError;
	}
	#lastMemberAdded = $state.raw<{ key: AuthorId; role: string; blockId: BlockId; pending: boolean } | null>(null);
	get lastMemberAdded() {
		return this.#lastMemberAdded;
	}
	/** Invites on the ledger, newest first. */
	#invites = $state.raw<InviteRecord[]>([]);
	get invites() {
		return this.#invites;
	}
	/** Membership changes waiting for more admins' approvals (networks with a quorum). */
	#pendingChanges = $state.raw<{ block: BlockId; index: number; kind: string; member: AuthorId; role: string; approvedBy: AuthorId[] }[]>(
		[]
	);
	get pendingChanges() {
		return this.#pendingChanges;
	}
	/** Admins who must sign a membership change. */
	#quorum = $state(1);
	get quorum() {
		return this.#quorum;
	}
	/** Revoked members and the seq after which their blocks are void. */
	#revocations = $state.raw<{ key: AuthorId; cutoff: number; name: string | null }[]>([]);
	get revocations() {
		return this.#revocations;
	}
	/** The invite made last (link and QR code shown until dismissed). */
	#lastInvite = $state.raw<MadeInvite | null>(null);
	get lastInvite() {
		return this.#lastInvite;
	}
	/** Why the last admin action (invite, approval, revocation, role change) failed. */
	#adminError = $state<string | null>(null);
	get adminError() {
		return this.#adminError;
	}
	#adminBusy = $state(false);
	get adminBusy() {
		return this.#adminBusy;
	}

	#signer: Signer | null = null;
	#store: IndexedDBStore | null = null;
	#ledger: Ledger | null = null;
	#sync: SyncControl | null;
	#checks = new Map<BlockId, Pick<BlockView, 'check' | 'failure'>>();
	/** View updates run one after another so a full reload never interleaves with an append. */
	#view: Promise<void> = Promise.resolve();
	#unsubscribe: (() => void)[] = [];
	#releaseLock: (() => void) | null = null;
	#keyring: Keyring | null = null;
	#abort = new AbortController();
	#verifying: Promise<void> | null = null;

	constructor(options: { sync?: SyncControl } = {}) {
		this.#sync = options.sync ?? null;
	}

	/** The open ledger, when status is 'ready'. */
	get ledger(): Ledger | null {
		return this.#ledger;
	}

	/** This node's keyring (its record-opening key and the data keys it unwrapped), once unlocked. */
	get keyring(): Keyring | null {
		return this.#keyring;
	}

	/**
	 * Reads which key this browser holds and stops at the lock screen: status 'setup' or
	 * 'locked' until {@link unlock}, {@link setPassphrase} or {@link restoreBackup} opens
	 * the key, then the ledger. Call once; {@link stop} when the page goes away.
	 */
	async start(): Promise<void> {
		try {
			this.#status = (await this.keys.inspect()) === 'encrypted' ? 'locked' : 'setup';
		} catch (error) {
			this.#error = describeError(error);
			this.#status = 'error';
		}
	}

	/** Opens the stored key with its passphrase, then the ledger; false when refused (see {@link keys}). */
	unlock(passphrase: string): Promise<boolean> {
		return this.#unlockWith(() => this.keys.unlock(passphrase));
	}

	/** Encrypts a new key (first run) or the key kept in clear under a chosen passphrase, then opens the ledger. */
	setPassphrase(passphrase: string, confirm: string): Promise<boolean> {
		return this.#unlockWith(() => this.keys.choose(passphrase, confirm));
	}

	/** Restores the key from a backup file and its passphrase, then opens the ledger. */
	restoreBackup(fileText: string | null, passphrase: string): Promise<boolean> {
		return this.#unlockWith(() => this.keys.restore(fileText, passphrase));
	}

	/**
	 * Stops the node and reloads the page, which opens at the lock screen: a reload is the
	 * one way to drop every copy of the key from memory (signer, WebCrypto key, closures).
	 */
	async lock(): Promise<void> {
		await this.stop();
		location.reload();
	}

	async #unlockWith(unlock: () => Promise<Identity | null>): Promise<boolean> {
		if (this.#status !== 'locked' && this.#status !== 'setup') return false;
		const identity = await unlock();
		if (!identity) return false;
		this.#status = 'loading';
		await this.#open(identity);
		return true;
	}

	/** Opens the ledger as the unlocked identity. */
	async #open(identity: Identity): Promise<void> {
		try {
			this.#identity = { author: authorIdOf(identity), createdAt: identity.createdAt };
			this.#signer = await createSigner(identity.secretKey);
			// Records are opened with the X25519 form of the same key (docs/privacy.md); it stays in memory until the page goes.
			this.#keyring = new Keyring(authorIdOf(identity), encryptionSecretKey(identity.secretKey));
			// The signer keeps its own copy (a non-extractable key where WebCrypto has Ed25519).
			identity.secretKey.fill(0);
			if (!(await this.#acquireLock())) return;
			const store = await IndexedDBStore.open(LEDGER_DB);
			if (this.#abort.signal.aborted) {
				await store.close();
				return;
			}
			this.#store = store;
			let config = await loadNetworkConfig();
			const stored = await Ledger.storedNetwork(store);
			if (stored && config && config.net !== stored) {
				this.#error = `The saved sync settings belong to another network (${config.net.slice(0, 12)}), not to the one in this browser; they are not used. Open this network's link to restore them.`;
				config = null;
			}
			this.#networkConfig = config;
			// A node that joined by a link holds an empty store until the genesis arrives: its settings say which network it waits for.
			const net = stored ?? config?.net;
			if (!net) {
				this.#status = 'no-network';
				this.#watchLinks();
				return;
			}
			const ledger = await Ledger.open({ store, signer: this.#signer, net, ...APP_LEDGER }).catch((error: unknown) => {
				// Opening folds every stored block: one that no longer decodes stops it.
				if (error instanceof LedgerError)
					throw new Error(`A block stored in this browser is damaged (${error.code}: ${error.detail}). Nothing was changed or deleted.`);
				throw error;
			});
			if (this.#abort.signal.aborted) {
				await ledger.close();
				return;
			}
			await this.#attach(ledger);
			this.#watchLinks();
			void this.verifyAll('open');
		} catch (error) {
			this.#error = describeError(error);
			this.#status = 'error';
		}
	}

	/** Stops syncing, closes the ledger and lets another tab take over. */
	async stop(): Promise<void> {
		this.#abort.abort();
		this.#keyring?.clear();
		for (const off of this.#unsubscribe) off();
		this.#unsubscribe = [];
		const ledger = this.#ledger;
		const store = this.#store;
		this.#ledger = null;
		this.#store = null;
		try {
			await this.#sync?.stop();
			if (ledger) await ledger.close();
			else if (store) await store.close();
		} finally {
			this.#releaseLock?.();
			this.#releaseLock = null;
		}
	}

	/** Founds a network named after the clinic; this node becomes its first admin. */
	async createNetwork(name: string, coAdminsText = '', quorum = 1): Promise<boolean> {
		const coAdmins = coAdminsText
			.split(/[\s,]+/)
			.map(normalizeMemberKey)
			.filter((k) => k !== '');
		const keyProblem = coAdmins.map((k) => memberKeyProblem(k)).find((p) => p !== null);
		const problem =
			networkNameProblem(name) ??
			(keyProblem ? `Other founding admins: ${keyProblem}` : null) ??
			(new Set(coAdmins).size !== coAdmins.length || coAdmins.includes(this.#identity?.author ?? '')
				? 'Other founding admins: a key is listed twice, or is this node’s own.'
				: null) ??
			(!Number.isInteger(quorum) || quorum < 1 || quorum > coAdmins.length + 1
				? `Admins needed: 1 to ${coAdmins.length + 1} (this node and the keys listed).`
				: null);
		this.#createError = problem;
		// One genesis only: a second click while the first is being written does nothing.
		if (problem || this.#creating) return false;
		if (this.#status !== 'no-network' || !this.#store || !this.#signer) {
			this.#createError = 'This browser already holds a network.';
			return false;
		}
		this.#creating = true;
		try {
			const genesis = {
				name: name.trim(),
				...(coAdmins.length > 0 ? { members: coAdmins.map((k) => ({ key: fromHex(k), role: 'admin' })) } : {}),
				...(quorum > 1 ? { quorum } : {})
			};
			const ledger = await Ledger.create({ store: this.#store, signer: this.#signer, genesis, ...APP_LEDGER });
			// The genesis was validated by the ledger as it was stored.
			for (const head of ledger.heads()) this.#checks.set(head.id, { check: 'verified' });
			const config: NetworkConfig = {
				net: ledger.net,
				secret: newRoomSecret(),
				signaling: [defaultSignalingUrl(location)],
				name: name.trim(),
				origin: 'founded',
				savedAt: Date.now()
			};
			try {
				await saveNetworkConfig(config);
				this.#networkConfig = config;
			} catch (error) {
				this.#error = `The network was created, but its sync settings could not be saved: ${describeError(error)}. Reload to try again.`;
			}
			this.#pendingLink = null;
			await this.#attach(ledger);
			return true;
		} catch (error) {
			this.#createError = `The network could not be created: ${describeError(error)}`;
			return false;
		} finally {
			this.#creating = false;
		}
	}

	/**
	 * Joins the network of {@link pendingLink}: stores its settings, opens an empty ledger
	 * for that network and starts syncing. Members refuse this node until an admin adds
	 * its key; until then it holds nothing.
	 */
	async joinNetwork(displayName = ''): Promise<boolean> {
		const pending = this.#pendingLink;
		this.#joinError = pending?.invite ? displayNameProblem(displayName) : null;
		if (this.#joinError) return false;
		if (this.#joining) return false;
		if (!pending || pending.action !== 'join' || this.#status !== 'no-network' || !this.#store || !this.#signer) {
			this.#joinError = 'There is no network link to join, or this browser already holds a network.';
			return false;
		}
		this.#joining = true;
		try {
			const { link } = pending;
			const invite = pending.invite;
			const config: NetworkConfig = {
				net: link.net,
				secret: link.secret,
				signaling: [...link.signaling],
				name: link.name ?? '',
				origin: 'joined',
				savedAt: Date.now(),
				...(invite ? { join: { token: invite.token, name: displayName.trim(), role: invite.role, expires: invite.expires } } : {})
			};
			// Settings first: they are what marks an empty store as "joined, waiting for the genesis".
			await saveNetworkConfig(config);
			this.#networkConfig = config;
			const ledger = await Ledger.open({ store: this.#store, signer: this.#signer, net: link.net, ...APP_LEDGER });
			this.#pendingLink = null;
			this.#clearLinkFromAddressBar();
			await this.#attach(ledger);
			return true;
		} catch (error) {
			this.#joinError = `The network could not be joined: ${describeError(error)}`;
			return false;
		} finally {
			this.#joining = false;
		}
	}

	/** Uses the sync settings of a link to this same network (this node had none). */
	async adoptLinkSettings(): Promise<boolean> {
		const pending = this.#pendingLink;
		const ledger = this.#ledger;
		if (!pending || pending.action !== 'adopt' || !ledger || pending.link.net !== ledger.net) return false;
		const { link } = pending;
		return this.#saveSettings({
			net: link.net,
			secret: link.secret,
			signaling: [...link.signaling],
			name: this.#network?.name || link.name || '',
			origin: 'joined',
			savedAt: Date.now()
		}).then((ok) => {
			if (ok) {
				this.#pendingLink = null;
				this.#clearLinkFromAddressBar();
			}
			return ok;
		});
	}

	/**
	 * Makes new sync settings (a new room secret, this server's signaling) for a network
	 * this node holds without settings. Nodes that joined with an older link will not
	 * find it until they get the new link.
	 */
	async createSyncSettings(): Promise<boolean> {
		const ledger = this.#ledger;
		if (!ledger || this.#networkConfig) return false;
		return this.#saveSettings({
			net: ledger.net,
			secret: newRoomSecret(),
			signaling: [defaultSignalingUrl(location)],
			name: this.#network?.name ?? '',
			origin: 'founded',
			savedAt: Date.now()
		});
	}

	/** Replaces the signaling servers (one URL per line); sync restarts with them. */
	async updateSignaling(text: string): Promise<boolean> {
		const urls = parseSignalingList(text);
		const problem = signalingProblem(urls);
		this.#settingsError = problem;
		this.#settingsSaved = false;
		const current = this.#networkConfig;
		if (problem || !current) return false;
		const ok = await this.#saveSettings({ ...current, signaling: urls, savedAt: Date.now() });
		this.#settingsSaved = ok;
		return ok;
	}

	async #saveSettings(config: NetworkConfig): Promise<boolean> {
		try {
			await saveNetworkConfig(config);
		} catch (error) {
			this.#settingsError = `The settings were not saved: ${describeError(error)}`;
			return false;
		}
		this.#networkConfig = config;
		this.#settingsError = null;
		if (this.#ledger) await this.#startSync(this.#ledger);
		return true;
	}

	/** Hides the invite made last (its link and QR code). */
	dismissInvite(): void {
		this.#lastInvite = null;
	}

	/** Forgets a pending network link without acting on it. */
	dismissLink(): void {
		this.#pendingLink = null;
		this.#linkError = null;
		this.#linkNotice = null;
		this.#clearLinkFromAddressBar();
	}

	/**
	 * Adds a member (admins only): a `member.add` block signed by this node. Resolves true
	 * once the block is durable; false with {@link memberError} set otherwise.
	 */
	async addMember(key: string, role: string, name: string): Promise<boolean> {
		const problem = memberKeyProblem(key) ?? (isMemberRole(role) ? null : 'Choose a role.') ?? memberNameProblem(name);
		this.#memberError = problem;
		if (problem || this.#addingMember) return false;
		const ledger = this.#ledger;
		if (!ledger) {
			this.#memberError = 'Create or join a network first.';
			return false;
		}
		const roster = ledger.roster();
		const self = ledger.author;
		if (!self || roster.get(self) !== 'admin') {
			this.#memberError = 'Only an admin of the network can add members; this node is not one.';
			return false;
		}
		const normalized = normalizeMemberKey(key) as AuthorId;
		if (roster.get(normalized) === role) {
			this.#memberError = `This key is already a member, as ${role}.`;
			return false;
		}
		this.#addingMember = true;
		try {
			const block = await ledger.append([memberAddTx(normalized, role as Parameters<typeof memberAddTx>[1], name)]);
			await this.#view;
			// With a quorum of admins the addition is a proposal until others approve it.
			this.#lastMemberAdded = { key: normalized, role, blockId: block.id, pending: ledger.roster().get(normalized) !== role };
			return true;
		} catch (error) {
			this.#memberError = `The member was not added: ${describeError(error)}`;
			return false;
		} finally {
			this.#addingMember = false;
		}
	}

	/** Appends `txs` as this node, an admin; false with {@link adminError} set when refused. */
	async #adminWrite(txs: Parameters<Ledger['append']>[0], what: string): Promise<boolean> {
		const ledger = this.#ledger;
		this.#adminError = null;
		if (this.#adminBusy) return false;
		if (!ledger || !ledger.author || ledger.roster().get(ledger.author) !== 'admin') {
			this.#adminError = `Only an admin of the network can do this; this node is not one. ${what} was not done.`;
			return false;
		}
		this.#adminBusy = true;
		try {
			await ledger.append(txs);
			await this.#view;
			return true;
		} catch (error) {
			this.#adminError = `${what} failed: ${describeError(error)}`;
			return false;
		} finally {
			this.#adminBusy = false;
		}
	}

	/**
	 * Creates an invite: its token's hash goes on the ledger (`invite.create`), the token
	 * itself only into the link, which this node signs. Shown in {@link lastInvite}.
	 */
	async createInvite(role: string, label: string, days: number, clinic: AuthorId | null = null): Promise<boolean> {
		const config = this.#networkConfig;
		if (!isMemberRole(role)) return ((this.#adminError = 'Choose the role the invited device will have.'), false);
		if (!Number.isInteger(days) || days < 1 || days > MAX_INVITE_DAYS)
			return ((this.#adminError = `An invite is valid for 1 to ${MAX_INVITE_DAYS} days.`), false);
		const problem = memberNameProblem(label);
		if (problem) return ((this.#adminError = problem), false);
		if (!config || !this.#signer || !this.#ledger)
			return ((this.#adminError = 'This node has no sync settings, so an invite could not reach it. Set up sync first.'), false);
		const token = crypto.getRandomValues(new Uint8Array(32));
		const expires = Date.now() + days * 24 * 60 * 60 * 1000;
		if (clinic && !this.#members.some((m) => m.key === clinic)) return ((this.#adminError = 'The clinic chosen is not a member.'), false);
		if (!(await this.#adminWrite([inviteCreateTx(token, role, expires, label, clinic)], 'Creating the invite'))) return false;
		const name = this.#network?.name || config.name;
		const link = await signInviteLink(this.#signer, {
			net: config.net,
			secret: this.#sync?.currentSecret?.() ?? config.secret,
			signaling: config.signaling,
			...(name ? { name } : {}),
			token: Array.from(token, (b) => b.toString(16).padStart(2, '0')).join(''),
			role,
			expires
		});
		this.#lastInvite = { url: inviteLinkUrl(new URL('/', location.href).href, link), role, label: label.trim(), expires };
		return true;
	}

	/** Withdraws an invite (`invite.revoke`): its link can no longer admit anyone. */
	withdrawInvite(tokenHashHex: string, reason: string): Promise<boolean> {
		return this.#adminWrite(
			[{ t: 'invite.revoke', token: fromHex(tokenHashHex), ...(reason.trim() ? { reason: reason.trim() } : {}) }],
			'Withdrawing the invite'
		);
	}

	/** Approves a join request: `member.add` with the invite's hash, which uses the invite up. */
	approveJoin(request: JoinRequest, inviteHashHex: string): Promise<boolean> {
		const invite = this.#invites.find((i) => i.token === inviteHashHex);
		if (!invite) return Promise.resolve(((this.#adminError = 'That invite is not in this node’s ledger.'), false));
		return this.#adminWrite([approveTx(request, invite)], 'Approving the request');
	}

	/** Refuses a join request: the invite is withdrawn on the ledger and the requester told. */
	async refuseJoin(request: JoinRequest, inviteHashHex: string): Promise<boolean> {
		const ok = await this.withdrawInvite(inviteHashHex, `join request from “${request.name}” refused`);
		if (ok)
			this.#sync?.refuseJoin?.(
				request.key,
				'An administrator refused this join request. The invite can no longer be used; ask the clinic if this is a mistake.'
			);
		return ok;
	}

	/** Approves another admin's proposed membership change (networks with a quorum). */
	approveChange(block: BlockId, index: number): Promise<boolean> {
		return this.#adminWrite([{ t: 'member.approve', block: fromHex(block), index }], 'Approving the change');
	}

	/** Revokes a member: its blocks after what this node has seen of it are void on every node. */
	revokeMember(key: AuthorId, reason: string): Promise<boolean> {
		return this.#adminWrite(
			[{ t: 'member.revoke', key: fromHex(key), ...(reason.trim() ? { reason: reason.trim() } : {}) }],
			'Revoking the member'
		);
	}

	/** Changes a member's role from now on (its earlier blocks keep the role they were written under). */
	changeRole(key: AuthorId, role: string): Promise<boolean> {
		if (!isMemberRole(role)) return Promise.resolve(((this.#adminError = 'Choose a role.'), false));
		return this.#adminWrite([{ t: 'member.role', key: fromHex(key), role }], 'Changing the role');
	}

	/**
	 * Appends a free-text entry as one signed block. Resolves true once the block is
	 * durable in IndexedDB and shown in {@link blocks}; false with {@link entryError} set
	 * when the text is refused or the write fails (then nothing was stored).
	 */
	async addEntry(text: string): Promise<boolean> {
		const problem = noteProblem(text);
		this.#entryError = problem;
		if (problem) return false;
		const ledger = this.#ledger;
		if (!ledger) {
			this.#entryError = 'Create or join a network before adding entries.';
			return false;
		}
		this.#appending = true;
		try {
			const block = await ledger.append([noteTx(text)]);
			await this.#view;
			this.#lastAppended = { id: block.id, seq: block.seq };
			return true;
		} catch (error) {
			this.#entryError = `The entry was not added: ${describeError(error)}`;
			return false;
		} finally {
			this.#appending = false;
		}
	}

	/**
	 * Re-checks every stored block (encoding, hash, signature, network, chain, clock) with
	 * progress in {@link verification}. A second call while one runs joins it.
	 */
	verifyAll(trigger: Verification['trigger'] = 'manual'): Promise<void> {
		this.#verifying ??= this.#runVerification(trigger).finally(() => {
			this.#verifying = null;
		});
		return this.#verifying;
	}

	async #runVerification(trigger: Verification['trigger']): Promise<void> {
		const ledger = this.#ledger;
		if (!ledger) return;
		const previous = this.#verification?.result ?? null;
		this.#verification = { trigger, running: true, checked: 0, total: ledger.size, result: previous, error: null };
		try {
			const { checked, failures } = await ledger.verifyAll((done, total) => {
				this.#verification = { trigger, running: true, checked: done, total, result: previous, error: null };
			});
			const failed = new Map(failures.filter((f) => f.id !== undefined).map((f) => [f.id!, f]));
			for (const block of this.#blocks) {
				const failure = failed.get(block.id);
				this.#checks.set(
					block.id,
					failure ? { check: 'failed', failure: { code: failure.code, detail: failure.detail } } : { check: 'verified' }
				);
			}
			this.#blocks = this.#blocks.map((b) => ({ ...b, ...this.#checks.get(b.id)! }));
			this.#verification = {
				trigger,
				running: false,
				checked,
				total: checked,
				result: { checked, failures, finishedAt: Date.now() },
				error: null
			};
		} catch (error) {
			const current = this.#verification;
			this.#verification = {
				trigger,
				running: false,
				checked: current?.checked ?? 0,
				total: current?.total ?? 0,
				result: previous,
				error: `Verification stopped: ${describeError(error)}`
			};
		}
	}

	/** Waits for the node lock; false when the page went away first. */
	async #acquireLock(): Promise<boolean> {
		if (typeof navigator === 'undefined' || !navigator.locks) return true;
		const held = new Promise<void>((release) => (this.#releaseLock = release));
		const granted = (options: LockOptions) =>
			new Promise<boolean>((resolve, reject) => {
				navigator.locks
					.request(NODE_LOCK, options, (lock) => {
						resolve(lock !== null);
						return lock ? held : undefined;
					})
					.catch(reject);
			});
		if (await granted({ ifAvailable: true })) return true;
		this.#notice = 'This ledger is open in another tab of this browser. This tab takes over as soon as that one is closed.';
		try {
			await granted({ signal: this.#abort.signal });
		} catch (error) {
			if (this.#abort.signal.aborted) return false;
			throw error;
		}
		this.#notice = null;
		return true;
	}

	/** Reads a network link from the address bar now and whenever the fragment changes. */
	#watchLinks(): void {
		if (typeof window === 'undefined') return;
		const read = () => this.#readLink(location.hash);
		window.addEventListener('hashchange', read);
		this.#unsubscribe.push(() => window.removeEventListener('hashchange', read));
		read();
	}

	#readLink(hash: string): void {
		if (/(^#|&)invite=/.test(hash)) {
			void this.#readInvite(hash);
			return;
		}
		if (!/(^#|&)network=/.test(hash)) return;
		this.#linkError = null;
		this.#linkNotice = null;
		let link: NetworkLink;
		try {
			link = parseNetworkLink(hash);
		} catch (error) {
			this.#pendingLink = null;
			this.#linkError = `This network link cannot be used: ${error instanceof InviteError ? error.message : describeError(error)}. Nothing was changed.`;
			return;
		}
		const ledger = this.#ledger;
		if (this.#status === 'no-network' || !ledger) {
			this.#pendingLink = { link, action: 'join' };
		} else if (link.net !== ledger.net) {
			this.#pendingLink = null;
			this.#linkError = `This browser already holds the network “${this.#network?.name || ledger.net.slice(0, 12)}”, and a browser holds one network. Open the link in another browser or browser profile. Nothing was changed.`;
		} else if (!this.#networkConfig) {
			this.#pendingLink = { link, action: 'adopt' };
		} else {
			this.#pendingLink = null;
			this.#linkNotice = 'This browser is already a node of this network.';
			this.#clearLinkFromAddressBar();
		}
	}

	/** Reads an invite link: its signature is checked before anything is shown or stored. */
	async #readInvite(hash: string): Promise<void> {
		this.#linkError = null;
		this.#linkNotice = null;
		let invite: InviteLink;
		try {
			invite = await parseInviteLink(hash, (sig, msg, key) => nobleVerifier.verify(sig, msg, key));
		} catch (error) {
			this.#pendingLink = null;
			this.#linkError = `This invite cannot be used: ${error instanceof InviteError ? error.message : describeError(error)} Nothing was changed.`;
			return;
		}
		const ledger = this.#ledger;
		if (this.#status === 'no-network' || !ledger) {
			if (Date.now() > invite.expires) {
				this.#linkError = `This invite expired on ${new Date(invite.expires).toISOString().slice(0, 16).replace('T', ' ')} UTC. Ask the clinic for a new one. Nothing was changed.`;
				return;
			}
			this.#pendingLink = { link: invite, action: 'join', invite };
		} else if (invite.net !== ledger.net) {
			this.#pendingLink = null;
			this.#linkError = `This browser already holds the network “${this.#network?.name || ledger.net.slice(0, 12)}”, and a browser holds one network. Open the invite in another browser or browser profile. Nothing was changed.`;
		} else {
			this.#pendingLink = null;
			this.#linkNotice = this.#role
				? 'This browser is already a member of this network; the invite was not used.'
				: 'This browser already joined this network and is waiting to be admitted.';
			this.#clearLinkFromAddressBar();
		}
	}

	/** While this node waits for admission with an invite: (re)sends its signed join request. */
	async #sendJoinRequest(): Promise<void> {
		const join = this.#networkConfig?.join;
		const ledger = this.#ledger;
		if (!join || !ledger || !this.#signer || this.#role) return;
		const request = await encodeJoinRequest(this.#signer, { net: ledger.net, token: join.token, name: join.name, time: Date.now() });
		this.#sync?.setJoinRequest?.(request);
	}

	/** Admitted: the invite is used, the request is no longer sent. */
	async #finishJoin(): Promise<void> {
		const config = this.#networkConfig;
		if (!config?.join || !this.#role) return;
		const { join: _used, ...rest } = config;
		this.#sync?.setJoinRequest?.(null);
		try {
			await saveNetworkConfig(rest);
			this.#networkConfig = rest;
		} catch (error) {
			this.#error = `Admitted, but the settings could not be updated: ${describeError(error)}`;
		}
	}

	/** The room secret should not linger in the address bar (or be bookmarked) once used. */
	#clearLinkFromAddressBar(): void {
		if (typeof window === 'undefined' || !location.hash) return;
		history.replaceState(history.state, '', location.pathname + location.search);
	}

	async #attach(ledger: Ledger): Promise<void> {
		this.#ledger = ledger;
		this.#verifierName = ledger.verifierName;
		this.#unsubscribe.push(
			ledger.on('accepted', (blocks) => this.#onAccepted(blocks)),
			ledger.on('rejected', () => {
				this.#rejected = ledger.rejectedCounts();
			}),
			// A revocation made blocks shown before void: redraw them with why.
			ledger.on('voided', () => this.#queueView(() => this.#loadAll()))
		);
		this.#rejected = ledger.rejectedCounts();
		this.#queueView(() => this.#loadAll());
		await this.#view;
		this.#status = 'ready';
		await this.#startSync(ledger);
		await this.#sendJoinRequest();
	}

	async #startSync(ledger: Ledger): Promise<void> {
		const config = this.#networkConfig;
		if (!config || !this.#sync) return;
		try {
			await this.#sync.start(ledger, config, this.#keyring);
		} catch (error) {
			this.#error = `Sync could not start: ${describeError(error)}`;
		}
	}

	#onAccepted(accepted: readonly Block[]): void {
		for (const block of accepted) this.#checks.set(block.id, { check: 'verified' });
		this.#queueView(async () => {
			const views = [...accepted].sort((a, b) => compareOrder(orderKey(a), orderKey(b))).map((b) => this.#toView(b));
			const first = views[0];
			const last = this.#blocks.at(-1);
			if (!first) return;
			if (!last || compareOrder(orderKey(first), orderKey(last)) > 0) this.#blocks = [...this.#blocks, ...views];
			// Blocks from a peer that sort among those already shown: merge them in order (a
			// catch-up interleaves with this node's own blocks batch after batch).
			else this.#blocks = mergeViews(this.#blocks, views);
			this.#readState();
		});
	}

	#queueView(update: () => Promise<void>): void {
		this.#view = this.#view.then(update).catch((error: unknown) => {
			this.#error = `The ledger view could not be updated: ${describeError(error)}`;
		});
	}

	async #loadAll(): Promise<void> {
		const ledger = this.#ledger;
		if (!ledger) return;
		const views: BlockView[] = [];
		for await (const block of ledger.blocks()) views.push(this.#toView(block));
		this.#blocks = views;
		this.#readState();
	}

	/** Summary, network name and members, as of every accepted block. */
	#readState(): void {
		const ledger = this.#ledger;
		if (!ledger) return;
		const state = ledger.state();
		const summary = state.summary as Summary | undefined;
		// The fold updates its state in place: copy, so the view sees a new value.
		this.#summary = summary ? { name: summary.name, blocks: summary.blocks, txs: { ...summary.txs } } : null;
		// Before the genesis arrives (joined, not yet synced) the link's name stands in.
		this.#network = { id: ledger.net, name: summary?.name || this.#networkConfig?.name || '' };
		const roster = ledger.roster();
		const genesis = this.#blocks[0]?.id === ledger.net ? this.#blocks[0] : undefined;
		this.#members = memberViews(
			roster,
			(state['member-names'] ?? {}) as MemberNames,
			genesis?.author ?? null,
			(state['member-clinics'] ?? {}) as MemberClinics
		);
		this.#role = (ledger.author && roster.get(ledger.author)) ?? null;
		const names = (state['member-names'] ?? {}) as MemberNames;
		this.#invites = Object.values((state.invites ?? {}) as Invites)
			.map((i) => ({ ...i }))
			.sort((a, b) => b.createdAt - a.createdAt);
		this.#quorum = ledger.quorum;
		this.#pendingChanges = ledger.pendingChanges().map(({ event, approvedBy }) => ({
			block: event.block,
			index: event.index,
			kind: event.kind,
			member: event.member,
			role: event.role,
			approvedBy
		}));
		this.#revocations = [...ledger.revocations()].map(([key, cutoff]) => ({ key, cutoff, name: names[key] ?? null }));
		if (this.#role && this.#networkConfig?.join) void this.#finishJoin();
	}

	#toView(block: Block): BlockView {
		const voidReason = this.#ledger?.voidReason(block.id);
		return {
			id: block.id,
			author: block.author,
			seq: block.seq,
			clock: block.clock,
			time: block.time,
			txs: block.txs.map(summarizeTx),
			...(this.#checks.get(block.id) ?? { check: 'unchecked' }),
			...(voidReason !== undefined ? { void: voidReason } : {})
		};
	}
}
