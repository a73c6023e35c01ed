/**
 * The one composition root of the UI: made once by the root layout and handed to every
 * route and component through Svelte context ({@link useSession}). It owns the node's
 * life (open, lock, close) and composes the managers each screen reads; no component
 * makes a manager, holds the `Ledger` or imports the core. Managers that follow the open
 * ledger (records, research, inventory, offline counts) are attached here, once, rather
 * than by whichever panel happens to be mounted.
 */
import { getContext, setContext, untrack } from 'svelte';
import { CodedError } from '$lib/core/index.js';
import { networkLinkUrl } from '$lib/domain/network-link.js';
import { defaultSignalingUrl } from '$lib/domain/network-config.js';
import { firstScreen, screensFor, type Screen } from '$lib/domain/screens.js';
import { BillingState } from './billing.svelte.js';
import { DemoState } from './demo.svelte.js';
import { DiagnosticsState } from './diagnostics.svelte.js';
import { ExplorerState } from './explorer.svelte.js';
import { InventoryState } from './inventory.svelte.js';
import { NodeState } from './node.svelte.js';
import { OfflineStatus } from './offline.svelte.js';
import { RecordsWorkspace } from './records.svelte.js';
import { ResearchWorkspace } from './research.svelte.js';
import { SyncState } from './sync.svelte.js';

export { isScreen, type Screen } from '$lib/domain/screens.js';
export { NOTE_MAX_CHARS } from '$lib/domain/note.js';
export { LEDGER_DB } from './node.svelte.js';

/** The app's own address: links shared from any screen open the app, not that screen. */
const appRoot = () => new URL('/', location.href).href;

export class NodeSession {
	readonly sync = new SyncState();
	/** The node's lifecycle: lock screen, identity, ledger, sync start and stop. */
	readonly node = new NodeState({ sync: this.sync });
	/** Accepted blocks, summary, network name, refused counts. */
	readonly ledgerView = this.node.view;
	/** Full re-checks of the stored ledger. */
	readonly verification = this.node.verification;
	/** Network and invite links from the address bar. */
	readonly links = this.node.links;
	/** Sync settings, founding and joining a network. */
	readonly setup = this.node.setup;
	/** Members, invites and admin approvals. */
	readonly members = this.node.members;
	/** Free-text ledger entries. */
	readonly entries = this.node.entries;
	readonly records = new RecordsWorkspace();
	readonly research = new ResearchWorkspace();
	readonly billing = new BillingState(() => this.node.ledger);
	readonly inventory = new InventoryState(() => this.node.ledger);
	readonly explorer = new ExplorerState(() => this.node.ledger);
	readonly diagnostics = new DiagnosticsState(() => this.node.ledger);
	readonly demo = new DemoState();
	readonly offline = new OfflineStatus();

	#stopEffects: (() => void) | null = null;

	/** The screens this node's role may use, in navigation order. */
	get screens(): Screen[] {
		return screensFor(this.members.role);
	}

	/** Where `/` leads once the node is ready: a clinic's patients, a payer's claims, a researcher's studies. */
	get home(): Screen {
		return firstScreen(this.members.role);
	}

	/** Peers connected and past the handshake. */
	get onlinePeers(): number {
		return this.sync.peers.filter((p) => p.online && p.state === 'ready').length;
	}

	/** The network's link (room secret, signaling, name) that lets another node join; null without sync settings. */
	get shareUrl(): string | null {
		const config = this.setup.config;
		if (!config) return null;
		const name = this.ledgerView.network?.name || config.name;
		return networkLinkUrl(appRoot(), {
			net: config.net,
			secret: this.sync.currentSecret() ?? config.secret,
			signaling: config.signaling,
			...(name ? { name } : {})
		});
	}

	/** The signaling relay of the server this page came from. */
	get defaultSignalingUrl(): string {
		return defaultSignalingUrl(location);
	}

	/** Starts the node (lock screen first) and the wiring of managers to the open ledger; {@link stop} undoes both. */
	start(): void {
		if (this.#stopEffects) return;
		this.#stopEffects = $effect.root(() => {
			$effect(() => {
				if (this.node.status !== 'ready') return;
				const ledger = this.node.ledger;
				const keyring = this.node.keyring;
				if (!ledger || !keyring) return;
				// Only the open ledger and keyring are this effect's inputs: what attaching reads and writes (the managers' own state) must not re-run it.
				return untrack(() => {
					void this.records.attach(ledger, keyring);
					this.research.attach(ledger, keyring);
					return this.inventory.attach(ledger);
				});
			});
			// Recount what waits to sync whenever blocks or peers change.
			$effect(() => {
				void this.ledgerView.blocks;
				const ledger = this.node.status === 'ready' ? this.node.ledger : null;
				const peers = this.sync.peers;
				untrack(() => this.offline.update(ledger, peers));
			});
			$effect(() => {
				if (this.node.status === 'ready') untrack(() => void this.offline.checkStorage());
			});
		});
		void this.node.start();
	}

	async stop(): Promise<void> {
		this.#stopEffects?.();
		this.#stopEffects = null;
		this.explorer.close();
		this.records.detach();
		this.research.detach();
		await this.node.stop();
	}
}

const KEY = Symbol('node-session');

/** Makes the session for this page and hands it to the component tree (root layout only). */
export function provideSession(): NodeSession {
	return setContext(KEY, new NodeSession());
}

/** The session the root layout made. */
export function useSession(): NodeSession {
	const session = getContext<NodeSession | undefined>(KEY);
	if (!session) throw new CodedError('NO_SESSION', 'useSession() was called outside the root layout, which makes the session.');
	return session;
}
