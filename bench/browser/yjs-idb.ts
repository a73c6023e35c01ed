/**
 * The Yjs baseline: a plain Y.Doc persisted by y-indexeddb, with a way to wait until an
 * update is actually stored.
 *
 * y-indexeddb emits nothing when it has stored an update: its doc 'update' handler
 * (`_storeUpdate`) synchronously opens one readwrite transaction on the "updates" store and
 * adds the update to it, without keeping the transaction. So we wrap `db.transaction` on
 * the persistence's own connection, collect the readwrite transactions it creates, and
 * wait for their 'complete' event: that is the moment IndexedDB has committed the update,
 * the same moment `ledger.append` resolves (IDB transaction complete) for the ledger.
 * y-indexeddb does not ask for a durability, so the browser default applies (reported).
 */
import * as Y from 'yjs';
import { IndexeddbPersistence } from 'y-indexeddb';

function completion(tx: IDBTransaction): Promise<void> {
	return new Promise((resolve, reject) => {
		tx.addEventListener('complete', () => resolve());
		tx.addEventListener('error', () => reject(tx.error));
		tx.addEventListener('abort', () => reject(tx.error ?? new Error('transaction aborted')));
	});
}

export class PersistedDoc {
	readonly doc: Y.Doc;
	readonly entries: Y.Array<unknown>;
	readonly #persistence: IndexeddbPersistence;
	readonly #writes: IDBTransaction[] = [];
	/** Durability of the transactions y-indexeddb opens, as IndexedDB reports it. */
	durability = 'unknown';

	private constructor(doc: Y.Doc, persistence: IndexeddbPersistence) {
		this.doc = doc;
		this.entries = doc.getArray('ledger');
		this.#persistence = persistence;
		const db = persistence.db!;
		const original = db.transaction.bind(db);
		db.transaction = ((stores: string | string[], mode?: IDBTransactionMode, options?: IDBTransactionOptions) => {
			const tx = original(stores, mode, options);
			if (mode === 'readwrite') {
				this.#writes.push(tx);
				this.durability = (tx as IDBTransaction & { durability?: string }).durability ?? 'unknown';
			}
			return tx;
		}) as typeof db.transaction;
	}

	/** Opens (or creates) the persisted doc `name` and waits until y-indexeddb has loaded it. */
	static async open(name: string): Promise<PersistedDoc> {
		const doc = new Y.Doc();
		const persistence = new IndexeddbPersistence(name, doc);
		await persistence.whenSynced;
		return new PersistedDoc(doc, persistence);
	}

	/** Resolves when every update made so far has been committed by IndexedDB. */
	async stored(): Promise<number> {
		const writes = this.#writes.splice(0);
		await Promise.all(writes.map(completion));
		return writes.length;
	}

	async close(): Promise<void> {
		await this.stored();
		await this.#persistence.destroy();
	}
}

/**
 * Milliseconds from nothing to a loaded doc: open y-indexeddb's database, read and apply
 * every stored update ('synced'), and read the array's length.
 */
export async function timeOpen(name: string, expected: number): Promise<number> {
	const start = performance.now();
	const doc = new Y.Doc();
	const persistence = new IndexeddbPersistence(name, doc);
	await persistence.whenSynced;
	const length = doc.getArray('ledger').length;
	const ms = performance.now() - start;
	if (length !== expected) throw new Error(`Yjs doc opened with ${length} entries, expected ${expected}`);
	await persistence.destroy();
	doc.destroy();
	return ms;
}
