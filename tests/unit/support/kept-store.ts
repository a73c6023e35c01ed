/** A memory store a ledger's close leaves open, so a test can open a ledger on it again. */
import { MemoryStore } from '../../../src/lib/core/storage/memory.js';

export class KeptStore extends MemoryStore {
	override async close() {}
}
