/**
 * Offline-first status: whether the browser is online, how many blocks written here no
 * peer has confirmed holding yet (kept per network in localStorage, so the count survives
 * a reload while offline), and this origin's storage: persistence requested once (so the
 * browser does not evict the ledger under storage pressure) and the quota used.
 */
import type { Ledger } from '$lib/core/index.js';
import type { PeerView } from './sync.svelte.js';

const key = (net: string) => `clinic-ledger:synced-seq:${net}`;

export class OfflineStatus {
	/** Blocks this node wrote that no peer is known to hold. */
	#waiting = $state(0);
	get waiting() {
		return this.#waiting;
	}
	#persisted = $state<boolean | null>(null);
	get persisted() {
		return this.#persisted;
	}
	#usage = $state<number | null>(null);
	get usage() {
		return this.#usage;
	}
	#quota = $state<number | null>(null);
	get quota() {
		return this.#quota;
	}

	/** Recounts from the ledger and the peers' last known state. */
	update(ledger: Ledger | null, peers: readonly PeerView[]): void {
		const author = ledger?.author;
		if (!ledger || !author) return;
		const own = ledger.versionVector()[author] ?? -1;
		let synced = Number(localStorage.getItem(key(ledger.net)) ?? -1);
		// A ready peer that lacks nothing this node holds has every block written here.
		if (peers.some((p) => p.state === 'ready' && p.online && p.theyLack === 0)) {
			synced = own;
			localStorage.setItem(key(ledger.net), String(own));
		}
		// seq 0 is the genesis or the join marker; a block a peer sent us first was never waiting.
		this.#waiting = Math.max(0, own - Math.max(synced, 0));
	}

	/** Asks the browser to keep this origin's data (IndexedDB) and reads the quota. */
	async checkStorage(): Promise<void> {
		if (typeof navigator === 'undefined' || !navigator.storage) return;
		try {
			this.#persisted = (await navigator.storage.persisted()) || (await navigator.storage.persist());
		} catch {
			this.#persisted = false;
		}
		try {
			const estimate = await navigator.storage.estimate();
			this.#usage = estimate.usage ?? null;
			this.#quota = estimate.quota ?? null;
		} catch {
			// Not available: the footer leaves the quota out.
		}
	}
}
