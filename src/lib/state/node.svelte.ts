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
	fromHex,
	toHex,
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

	/**
	 * Opens the stored key with its passphrase and the ledger; false when refused (see
	 * {@link keys}). The ledger is opened while the passphrase is checked (scrypt runs in a
	 * worker: domain/kdf.ts), as the stored key's public key, with a signer that waits for the
	 * key ({@link deferredSigner}); nothing of it is shown or used before the key opens. A
	 * refused passphrase closes it again and lets another tab take the ledger.
	 */
	async unlock(passphrase: string): Promise<boolean> {
		const key = this.keys.publicKey;
		if (this.#status !== 'locked' || key === null) return this.#unlockWith(() => this.keys.unlock(passphrase));
		if (this.#unlocking) return false;
		this.#unlocking = true;
		const attempt = new AbortController();
		const stopAttempt = () => attempt.abort();
		this.#abort.signal.addEventListener('abort', stopAttempt, { once: true });
		const deferred = deferredSigner(fromHex(key));
		let notice: string | null = null;
		// After a refused attempt has let go of what it opened (one tab lock request at a time).
		const early = this.#lettingGo.then(() =>
			this.#openStore(deferred.signer, attempt.signal, (n) => {
				notice = n;
				if (this.#status === 'loading') this.#notice = n;
			})
		);
		// Handled below: awaited once the key opens, or closed when it does not.
		early.catch(() => undefined);
		let identity: Identity | null;
		try {
			identity = await this.keys.unlock(passphrase);
		} finally {
			this.#unlocking = false;
		}
		if (!identity || toHex(identity.publicKey) !== key) {
			attempt.abort();
			// In the background: the lock screen answers at once, and the next attempt waits for this.
			this.#lettingGo = early
				.then(async (opened) => {
					if (opened) await (opened.ledger ?? opened.store).close();
				})
				.catch(() => undefined)
				.finally(() => {
					this.#lock.release();
					this.#abort.signal.removeEventListener('abort', stopAttempt);
				});
			if (!identity) return false;
			// Not the record's key (its encryption binds the public key, so never seen): opened afresh.
			await this.#lettingGo;
			this.#status = 'loading';
			await this.#open(identity);
			return true;
		}
		this.#status = 'loading';
		this.#notice = notice;
		try {
			await this.#open(identity, { opening: early, settle: deferred.settle });
		} finally {
			this.#abort.signal.removeEventListener('abort', stopAttempt);
		}
		return true;
	}
	#unlocking = false;
	/** A refused unlock closing what it opened and letting go of the tab lock. */
	#lettingGo: Promise<void> = Promise.resolve();

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

	/**
	 * Opens the ledger as the unlocked identity; `early`: the opening {@link unlock} started
	 * before the key opened, and how to hand its signer the key.
	 */
	async #open(identity: Identity, early?: { opening: Promise<Opening | null>; settle: (signer: Signer) => void }): Promise<void> {
		try {
			this.#identity = { author: authorIdOf(identity), createdAt: identity.createdAt };
			this.#signer = await createWorkerSigner(identity.secretKey);
			early?.settle(this.#signer);
			// Records are opened with the X25519 form of the same key (docs/privacy.md); it stays in memory until the page goes.
			this.#keyring = new Keyring(authorIdOf(identity), encryptionSecretKey(identity.secretKey));
			// The signer keeps its own copy (a non-extractable key where WebCrypto has Ed25519).
			identity.secretKey.fill(0);
			const opened = await (early?.opening ?? this.#openStore(this.#signer, this.#abort.signal, (notice) => (this.#notice = notice)));
			if (!opened) return;
			if (this.#abort.signal.aborted) {
				// Stopped while the key was opening, after the ledger had opened.
				await (opened.ledger ?? opened.store).close();
				return;
			}
			this.#store = opened.store;
			this.#notice = null;
			if (!opened.ledger) {
				this.#status = 'no-network';
				this.links.watch();
				return;
			}
			await this.#attach(opened.ledger);
			this.links.watch();
			void this.verification.verifyAll('open');
		} catch (error) {
			this.#error = describeError(error);
			this.#status = 'error';
		}
	}

	/**
	 * Takes the tab lock, opens the store and, when it holds a network, the ledger as `signer`;
	 * null when `signal` stopped it (nothing left open). A ledger that fails to open closes the store.
	 */
	async #openStore(signer: Signer, signal: AbortSignal, notice: (text: string | null) => void): Promise<Opening | null> {
		if (!(await this.#lock.acquire(signal, notice))) return null;
		const store = await IndexedDBStore.open(LEDGER_DB);
		if (signal.aborted) {
			await store.close();
			return null;
		}
		const net = await this.setup.load((await Ledger.storedNetwork(store)) ?? null);
		if (!net) return { store, ledger: null };
		const onOpenProgress = (p: OpenProgress) => notice(openingNotice(p));
		const ledger = await Ledger.open({ store, signer, net, ...APP_LEDGER, onOpenProgress }).catch(async (error: unknown) => {
			await store.close().catch(() => undefined);
			// Opening folds every stored block: one that no longer decodes stops it.
			if (error instanceof LedgerError)
				throw new CodedError(
					'STORED_BLOCK_DAMAGED',
					`A block stored in this browser is damaged (${error.code}: ${error.detail}). Nothing was changed or deleted.`,
					{ cause: error }
				);
			throw error;
		});
		if (signal.aborted) {
			await ledger.close();
			return null;
		}
		return { store, ledger };
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

/** What opening the store came to: the ledger, or the store alone when it holds no network yet. */
type Opening = { store: IndexedDBStore; ledger: Ledger | null };

/**
 * A signer for `publicKey` that signs once {@link settle} hands it the signer of the opened
 * key: the ledger opens as this node while the passphrase is still being checked. Nothing
 * signs before (the ledger is not shown or used until then).
 */
function deferredSigner(publicKey: Uint8Array): { signer: Signer; settle: (signer: Signer) => void } {
	let real: Signer | null = null;
	let settle!: (signer: Signer) => void;
	const ready = new Promise<Signer>((resolve) => (settle = resolve));
	return {
		signer: { publicKey, sign: (message) => (real ? real.sign(message) : ready.then((s) => s.sign(message))) },
		settle(signer) {
			real = signer;
			settle(signer);
		}
	};
}
