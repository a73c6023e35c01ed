/**
 * A short fingerprint of a copy of the ledger: sha256 over the ids of every stored block
 * in ledger order (clock, then id). Two nodes show the same fingerprint exactly when they
 * hold the same blocks in the same order, so people can compare copies by reading eight
 * bytes aloud instead of thousands of rows.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { fromHex, orderKey, toHex, type Ledger, type OrderKey } from '$lib/core/index.js';

const PAGE = 1000;

export interface Fingerprint {
	/** Blocks hashed. */
	readonly blocks: number;
	/** Full sha256, hex. */
	readonly digest: string;
}

/** Reads the store in order, page by page (never the whole ledger in memory). */
export async function ledgerFingerprint(ledger: Ledger): Promise<Fingerprint> {
	const hash = sha256.create();
	let blocks = 0;
	let after: OrderKey | null = null;
	for (;;) {
		const page = await ledger.store.ordered(after, PAGE);
		for (const stored of page) hash.update(fromHex(stored.id));
		blocks += page.length;
		if (page.length < PAGE) break;
		after = orderKey(page[page.length - 1]!);
	}
	return { blocks, digest: toHex(hash.digest()) };
}
