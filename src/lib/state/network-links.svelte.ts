/**
 * Network and invite links opened in the address bar: read (an invite's signature is
 * checked before anything is shown), judged against what this browser holds, and kept as
 * the {@link NetworkLinks.pending} link the person can act on. Nothing is stored here.
 */
import { describeError, nobleVerifier } from '$lib/core/index.js';
import { parseInviteLink, type InviteLink } from '$lib/domain/invites.js';
import { InviteError, parseNetworkLink, type NetworkLink } from '$lib/domain/network-link.js';
import type { NodeContext, PendingLink } from './node-types.js';

const why = (error: unknown) => (error instanceof InviteError ? error.message : describeError(error));

export class NetworkLinks {
	/** A network link opened in the address bar that the person can act on. */
	#pending = $state.raw<PendingLink | null>(null);
	get pending() {
		return this.#pending;
	}
	/** Why a network link from the address bar cannot be used (nothing was changed). */
	#error = $state<string | null>(null);
	get error() {
		return this.#error;
	}
	/** Something to say about a link that needs no action (e.g. already in that network). */
	#notice = $state<string | null>(null);
	get notice() {
		return this.#notice;
	}

	readonly #node: NodeContext;
	readonly #hasSettings: () => boolean;
	readonly #role: () => string | null;
	#off: (() => void) | null = null;

	/** `hasSettings`: whether this node has sync settings; `role`: its role, null while not a member. */
	constructor(node: NodeContext, hasSettings: () => boolean, role: () => string | null) {
		this.#node = node;
		this.#hasSettings = hasSettings;
		this.#role = role;
	}

	/** Reads a network link from the address bar now and whenever the fragment changes. */
	watch(): void {
		if (typeof window === 'undefined' || this.#off) return;
		const read = () => this.#read(location.hash);
		window.addEventListener('hashchange', read);
		this.#off = () => window.removeEventListener('hashchange', read);
		read();
	}

	unwatch(): void {
		this.#off?.();
		this.#off = null;
	}

	/** The pending link was used: forget it and take it out of the address bar. */
	used(): void {
		this.#pending = null;
		this.clearAddressBar();
	}

	/** Forgets a pending network link without acting on it. */
	dismiss(): void {
		this.#pending = null;
		this.#error = null;
		this.#notice = null;
		this.clearAddressBar();
	}

	/** The room secret should not linger in the address bar (or be bookmarked) once used. */
	clearAddressBar(): void {
		if (typeof window === 'undefined' || !location.hash) return;
		history.replaceState(history.state, '', location.pathname + location.search);
	}

	#read(hash: string): void {
		if (/(^#|&)invite=/.test(hash)) {
			void this.#readInvite(hash);
			return;
		}
		if (!/(^#|&)network=/.test(hash)) return;
		this.#error = null;
		this.#notice = null;
		let link: NetworkLink;
		try {
			link = parseNetworkLink(hash);
		} catch (error) {
			this.#pending = null;
			this.#error = `This network link cannot be used: ${why(error)}. Nothing was changed.`;
			return;
		}
		const ledger = this.#node.ledger;
		if (this.#node.status === 'no-network' || !ledger) {
			this.#pending = { link, action: 'join' };
		} else if (link.net !== ledger.net) {
			this.#pending = null;
			this.#error = `This browser already holds the network “${this.#node.networkName || ledger.net.slice(0, 12)}”, and a browser holds one network. Open the link in another browser or browser profile. Nothing was changed.`;
		} else if (!this.#hasSettings()) {
			this.#pending = { link, action: 'adopt' };
		} else {
			this.#pending = null;
			this.#notice = 'This browser is already a node of this network.';
			this.clearAddressBar();
		}
	}

	/** Reads an invite link: its signature is checked before anything is shown or stored. */
	async #readInvite(hash: string): Promise<void> {
		this.#error = null;
		this.#notice = null;
		let invite: InviteLink;
		try {
			invite = await parseInviteLink(hash, (sig, msg, key) => nobleVerifier.verify(sig, msg, key));
		} catch (error) {
			this.#pending = null;
			this.#error = `This invite cannot be used: ${why(error)} Nothing was changed.`;
			return;
		}
		const ledger = this.#node.ledger;
		if (this.#node.status === 'no-network' || !ledger) {
			if (Date.now() > invite.expires) {
				this.#error = `This invite expired on ${new Date(invite.expires).toISOString().slice(0, 16).replace('T', ' ')} UTC. Ask the clinic for a new one. Nothing was changed.`;
				return;
			}
			this.#pending = { link: invite, action: 'join', invite };
		} else if (invite.net !== ledger.net) {
			this.#pending = null;
			this.#error = `This browser already holds the network “${this.#node.networkName || ledger.net.slice(0, 12)}”, and a browser holds one network. Open the invite in another browser or browser profile. Nothing was changed.`;
		} else {
			this.#pending = null;
			this.#notice = this.#role()
				? 'This browser is already a member of this network; the invite was not used.'
				: 'This browser already joined this network and is waiting to be admitted.';
			this.clearAddressBar();
		}
	}
}
