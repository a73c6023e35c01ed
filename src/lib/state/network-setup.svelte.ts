/**
 * How this node reaches its network: the sync settings (room secret, signaling) kept in
 * IndexedDB, founding a network, joining one by a link, adopting a link's settings or
 * making new ones, the signaling list, and the join request sent while waiting to be
 * admitted. Founding and joining are use cases of domain/membership/.
 */
import { describeError, type BlockId } from '$lib/core/index.js';
import {
	defaultSignalingUrl,
	loadNetworkConfig,
	parseSignalingList,
	saveNetworkConfig,
	signalingProblem,
	type NetworkConfig
} from '$lib/domain/network-config.js';
import { newRoomSecret } from '$lib/domain/network-link.js';
import { createNetwork, joinNetwork, joinRequest, MembershipRefusal } from '$lib/domain/membership/index.js';
import type { NetworkLinks } from './network-links.svelte.js';
import type { NodeContext } from './node-types.js';

/** Which form the one error belongs to. */
type Form = 'create' | 'join' | 'settings';

export class NetworkSetup {
	/** How this node reaches its network (room secret, signaling); null before founding or joining. */
	#config = $state.raw<NetworkConfig | null>(null);
	get config() {
		return this.#config;
	}
	#creating = $state(false);
	get creating() {
		return this.#creating;
	}
	#joining = $state(false);
	get joining() {
		return this.#joining;
	}
	#error = $state.raw<{ form: Form; message: string } | null>(null);
	/** Why founding the network failed. */
	get createError() {
		return this.#errorOf('create');
	}
	/** Why joining by the pending link failed. */
	get joinError() {
		return this.#errorOf('join');
	}
	/** Why the sync settings were not saved. */
	get settingsError() {
		return this.#errorOf('settings');
	}
	#settingsSaved = $state(false);
	get settingsSaved() {
		return this.#settingsSaved;
	}

	readonly #node: NodeContext;
	readonly #links: NetworkLinks;

	constructor(node: NodeContext, links: NetworkLinks) {
		this.#node = node;
		this.#links = links;
	}

	#errorOf(form: Form): string | null {
		return this.#error?.form === form ? this.#error.message : null;
	}

	#fail(form: Form, message: string | null): false {
		this.#error = message === null ? null : { form, message };
		return false;
	}

	/**
	 * Reads the stored settings for the network in the store (`stored`, null when empty);
	 * returns the network this node holds or waits for, null when none.
	 */
	async load(stored: BlockId | null): Promise<BlockId | null> {
		let config = await loadNetworkConfig();
		if (stored && config && config.net !== stored) {
			this.#node.report(
				`The saved sync settings belong to another network (${config.net.slice(0, 12)}), not to the one in this browser; they are not used. Open this network's link to restore them.`
			);
			config = null;
		}
		this.#config = config;
		// A node that joined by a link holds an empty store until the genesis arrives: its settings say which network it waits for.
		return stored ?? config?.net ?? null;
	}

	/** Founds a network named after the clinic; this node becomes its first admin. */
	async createNetwork(name: string, coAdminsText = '', quorum = 1): Promise<boolean> {
		// One genesis only: a second click while the first is being written does nothing.
		if (this.#creating) return false;
		this.#error = null;
		const { store, signer } = this.#node;
		this.#creating = true;
		try {
			if (this.#node.status !== 'no-network' || !store || !signer)
				throw new MembershipRefusal('NETWORK_INPUT_INVALID', 'This browser already holds a network.');
			const { ledger, config } = await createNetwork(store, signer, { name, coAdmins: coAdminsText, quorum }, [
				defaultSignalingUrl(location)
			]);
			try {
				await saveNetworkConfig(config);
				this.#config = config;
			} catch (error) {
				this.#node.report(
					`The network was created, but its sync settings could not be saved: ${describeError(error)}. Reload to try again.`
				);
			}
			this.#links.used();
			// The genesis was validated by the ledger as it was stored.
			await this.#node.attach(
				ledger,
				ledger.heads().map((h) => h.id)
			);
			return true;
		} catch (error) {
			return this.#fail(
				'create',
				error instanceof MembershipRefusal ? error.message : `The network could not be created: ${describeError(error)}`
			);
		} finally {
			this.#creating = false;
		}
	}

	/**
	 * Joins the network of the pending link: stores its settings, opens an empty ledger
	 * for that network and starts syncing. Members refuse this node until an admin adds
	 * its key; until then it holds nothing.
	 */
	async joinNetwork(displayName = ''): Promise<boolean> {
		if (this.#joining) return false;
		this.#error = null;
		const pending = this.#links.pending;
		const { store, signer } = this.#node;
		this.#joining = true;
		try {
			if (!pending || pending.action !== 'join' || this.#node.status !== 'no-network' || !store || !signer)
				throw new MembershipRefusal('NETWORK_INPUT_INVALID', 'There is no network link to join, or this browser already holds a network.');
			const { ledger } = await joinNetwork(store, signer, pending.link, pending.invite ?? null, displayName, async (config) => {
				await saveNetworkConfig(config);
				this.#config = config;
			});
			this.#links.used();
			await this.#node.attach(ledger);
			return true;
		} catch (error) {
			return this.#fail(
				'join',
				error instanceof MembershipRefusal ? error.message : `The network could not be joined: ${describeError(error)}`
			);
		} finally {
			this.#joining = false;
		}
	}

	/** Uses the sync settings of a link to this same network (this node had none). */
	async adoptLinkSettings(): Promise<boolean> {
		const pending = this.#links.pending;
		const ledger = this.#node.ledger;
		if (!pending || pending.action !== 'adopt' || !ledger || pending.link.net !== ledger.net) return false;
		const { link } = pending;
		const ok = await this.#save({
			net: link.net,
			secret: link.secret,
			signaling: [...link.signaling],
			name: this.#node.networkName || link.name || '',
			origin: 'joined',
			savedAt: Date.now()
		});
		if (ok) this.#links.used();
		return ok;
	}

	/**
	 * Makes new sync settings (a new room secret, this server's signaling) for a network
	 * this node holds without settings. Nodes that joined with an older link will not
	 * find it until they get the new link.
	 */
	async createSyncSettings(): Promise<boolean> {
		const ledger = this.#node.ledger;
		if (!ledger || this.#config) return false;
		return this.#save({
			net: ledger.net,
			secret: newRoomSecret(),
			signaling: [defaultSignalingUrl(location)],
			name: this.#node.networkName,
			origin: 'founded',
			savedAt: Date.now()
		});
	}

	/** Replaces the signaling servers (one URL per line); sync restarts with them. */
	async updateSignaling(text: string): Promise<boolean> {
		const urls = parseSignalingList(text);
		const problem = signalingProblem(urls);
		this.#fail('settings', problem);
		this.#settingsSaved = false;
		const current = this.#config;
		if (problem || !current) return false;
		const ok = await this.#save({ ...current, signaling: urls, savedAt: Date.now() });
		this.#settingsSaved = ok;
		return ok;
	}

	async #save(config: NetworkConfig): Promise<boolean> {
		try {
			await saveNetworkConfig(config);
		} catch (error) {
			return this.#fail('settings', `The settings were not saved: ${describeError(error)}`);
		}
		this.#config = config;
		this.#error = null;
		await this.#node.restartSync();
		return true;
	}

	/** While this node waits for admission with an invite: (re)sends its signed join request. */
	async sendJoinRequest(role: string | null): Promise<void> {
		const join = this.#config?.join;
		const { ledger, signer } = this.#node;
		if (!join || !ledger || !signer || role) return;
		this.#node.sync?.setJoinRequest?.(await joinRequest(signer, ledger.net, join));
	}

	/** Admitted (this node has a role): the invite is used, the request is no longer sent. */
	async finishJoin(): Promise<void> {
		const config = this.#config;
		if (!config?.join) return;
		const { join: _used, ...rest } = config;
		this.#node.sync?.setJoinRequest?.(null);
		try {
			await saveNetworkConfig(rest);
			this.#config = rest;
		} catch (error) {
			this.#node.report(`Admitted, but the settings could not be updated: ${describeError(error)}`);
		}
	}
}
