/**
 * The Yjs baseline for verification: Yjs verifies nothing, so the closest comparable work
 * is applying the same entries, received as one update each, to a fresh document.
 */
import * as Y from 'yjs';
import { noteEntry } from './workload.js';

/** One Yjs update per entry, as a peer pushing entries one at a time would send them. */
export function singleEntryUpdates(count: number): Uint8Array[] {
	const doc = new Y.Doc();
	const updates: Uint8Array[] = [];
	doc.on('update', (update: Uint8Array) => updates.push(update));
	const entries = doc.getArray('ledger');
	for (let i = 0; i < count; i++) entries.push([noteEntry(i)]);
	doc.destroy();
	return updates;
}

/** Milliseconds `Y.applyUpdate` takes to apply `updates` one by one to a fresh document. */
export function timeApplyUpdates(updates: readonly Uint8Array[]): number {
	const doc = new Y.Doc();
	const entries = doc.getArray('ledger');
	const start = performance.now();
	for (const update of updates) Y.applyUpdate(doc, update);
	const ms = performance.now() - start;
	if (entries.length !== updates.length) throw new Error(`Yjs applied ${entries.length} of ${updates.length} entries`);
	doc.destroy();
	return ms;
}
