/**
 * This browser's node: its lifecycle. It opens the identity (lock screen first) and the
 * ledger, owns the signer, keyring and store, starts and stops sync, and composes the
 * managers that do the rest, each given a {@link NodeContext}: the ledger view and its
 * verification, the network setup and links, members and admin actions, ledger entries.
 *
 * One browser holds one network, in the IndexedDB database {@link LEDGER_DB}. Only one
 * tab at a time runs the node (state/tab-lock.ts).
 */
import { Keyring } from '$lib/domain/records/keyring.js';
import { encryptionSecretKey } from '$lib/domain/privacy/envelope.js';
import {
	CodedError,
	IndexedDBStore,
	Ledger,
	LedgerError,
	createWorkerSigner,
	describeError,
	type BlockId,
	type OpenProgress,
	type Signer
} from '$lib/core/index.js';
import { APP_LEDGER } from '$lib/domain/app-ledger.js';
import { authorIdOf, type Identity } from '$lib/domain/identity.js';
import { EntryManager } from './entries.svelte.js';
import { KeyState } from './keys.svelte.js';
import { LedgerView } from './ledger-view.svelte.js';
import { MembersManager } from './members.svelte.js';
import { NetworkLinks } from './network-links.svelte.js';
import { NetworkSetup } from './network-setup.svelte.js';
import type { NodeContext, NodeIdentity, NodeStatus, SyncControl } from './node-types.js';
import { TabLock } from './tab-lock.js';
import { LedgerVerification } from './verification.svelte.js';

export type { BlockView, MadeInvite, NodeStatus, SyncControl, Verification } from './node-types.js';

/** The ledger database of this origin; it holds at most one network. */
export const LEDGER_DB = 'clinic-ledger';

/** What the page says while the ledger rebuilds at open (after an update, or from an old checkpoint). */
export function openingNotice({ phase, done, total }: OpenProgress): string {
	const what = phase === 'index' ? 'Building the indexes' : 'Rebuilding the state';
	return `Opening the ledger… ${what}: ${done.toLocaleString('en')} of ${total.toLocaleString('en')} blocks`;
}

export class NodeState {
	#status = $state<NodeStatus>('loading');
	get status() {
		return this.#status;
	}
	/** Why the node could not start (status 'error'), or something gone wrong outside any form. */
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

	#signer: Signer | null = null;
	#store: IndexedDBStore | null = null;
	#ledger: Ledger | null = null;
	#keyring: Keyring | null = null;
	#sync: SyncControl | null;
	readonly #lock = new TabLock();
	#abort = new AbortController();

	/** What every manager below reads of the node. */
	readonly #context: NodeContext;
	/** Accepted blocks, summary, network name, refused counts. */
	readonly view: LedgerView;
	readonly verification: LedgerVerification;
	/** Network and invite links from the address bar. */
	readonly links: NetworkLinks;
	/** Sync settings, founding, joining. */
	readonly setup: NetworkSetup;
	readonly members: MembersManager;
	readonly entries: EntryManager;

	constructor(options: { sync?: SyncControl } = {}) {
		this.#sync = options.sync ?? null;
		// Getters over the private fields, read when a manager asks (never copies).
		const read = {
			status: () => this.#status,
			ledger: () => this.#ledger,
			signer: () => this.#signer,
			store: () => this.#store,
			sync: () => this.#sync,
			networkName: () => this.view.network?.name ?? ''
		};
		this.#context = {
			get status() {
				return read.status();
			},
			get ledger() {
				return read.ledger();
			},
			get signer() {
				return read.signer();
			},
			get store() {
				return read.store();
			},
			get sync() {
				return read.sync();
			},
			get networkName() {
				return read.networkName();
			},
			settled: () => this.view.settled(),
			attach: (ledger, verified) => this.#attach(ledger, verified),
			restartSync: () => this.#startSync(),
			report: (message) => {
				this.#error = message;
			}
		};
		this.view = new LedgerView({
			fallbackName: () => this.setup.config?.name ?? '',
			onRead: (ledger, founder) => {
				this.members.refresh(ledger, founder);
				if (this.members.role && this.setup.config?.join) void this.setup.finishJoin();
			},
			onError: (message) => {
				this.#error = message;
			}
		});
		this.verification = new LedgerVerification(() => this.#ledger, this.view);
		this.links = new NetworkLinks(
			this.#context,
			() => this.setup.config !== null,
			() => this.members.role
		);
		this.setup = new NetworkSetup(this.#context, this.links);
		this.members = new MembersManager(this.#context, () => {
			const config = this.setup.config;
			if (!config) return null;
			return {
				net: config.net,
				secret: this.#sync?.currentSecret?.() ?? config.secret,
				signaling: config.signaling,
				name: this.view.network?.name || config.name
			};
		});
		this.entries = new EntryManager(this.#context);
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
			this.#signer = await createWorkerSigner(identity.secretKey);
			// Records are opened with the X25519 form of the same key (docs/privacy.md); it stays in memory until the page goes.
			this.#keyring = new Keyring(authorIdOf(identity), encryptionSecretKey(identity.secretKey));
			// The signer keeps its own copy (a non-extractable key where WebCrypto has Ed25519).
			identity.secretKey.fill(0);
			if (!(await this.#lock.acquire(this.#abort.signal, (notice) => (this.#notice = notice)))) return;
			const store = await IndexedDBStore.open(LEDGER_DB);
			if (this.#abort.signal.aborted) {
				await store.close();
				return;
			}
			this.#store = store;
			const net = await this.setup.load((await Ledger.storedNetwork(store)) ?? null);
			if (!net) {
				this.#status = 'no-network';
				this.links.watch();
				return;
			}
			const onOpenProgress = (p: OpenProgress) => (this.#notice = openingNotice(p));
			const ledger = await Ledger.open({ store, signer: this.#signer, net, ...APP_LEDGER, onOpenProgress }).catch((error: unknown) => {
				// Opening folds every stored block: one that no longer decodes stops it.
				if (error instanceof LedgerError)
					throw new CodedError(
						'STORED_BLOCK_DAMAGED',
						`A block stored in this browser is damaged (${error.code}: ${error.detail}). Nothing was changed or deleted.`,
						{ cause: error }
					);
				throw error;
			});
			this.#notice = null;
			if (this.#abort.signal.aborted) {
				await ledger.close();
				return;
			}
			await this.#attach(ledger);
			this.links.watch();
			void this.verification.verifyAll('open');
		} catch (error) {
			this.#error = describeError(error);
			this.#status = 'error';
		}
	}

	/** Stops syncing, closes the ledger and lets another tab take over. */
	async stop(): Promise<void> {
		this.#abort.abort();
		this.#keyring?.clear();
		this.links.unwatch();
		this.view.detach();
		const ledger = this.#ledger;
		const store = this.#store;
		this.#ledger = null;
		this.#store = null;
		try {
			await this.#sync?.stop();
			if (ledger) await ledger.close();
			else if (store) await store.close();
		} finally {
			this.#lock.release();
		}
	}

	async #attach(ledger: Ledger, verified: readonly BlockId[] = []): Promise<void> {
		this.#ledger = ledger;
		await this.view.attach(ledger, verified);
		this.#status = 'ready';
		await this.#startSync();
		await this.setup.sendJoinRequest(this.members.role);
	}

	async #startSync(): Promise<void> {
		const config = this.setup.config;
		const ledger = this.#ledger;
		if (!config || !ledger || !this.#sync) return;
		try {
			await this.#sync.start(ledger, config, this.#keyring);
		} catch (error) {
			this.#error = `Sync could not start: ${describeError(error)}`;
		}
	}
}
