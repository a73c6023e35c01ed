/**
 * The IndexedDB databases the page's suites create: fresh names (all deleted again by the
 * `cleanup` suite), deletion, the page's log line, and raw IndexedDB helpers for the
 * suites that time IndexedDB without the ledger's store.
 */

const run = Date.now().toString(36);
let databases = 0;
const created: string[] = [];

/** A database name not used before in this browser profile. */
export function freshName(label: string): string {
	const name = `bench-${run}-${databases++}-${label}`;
	created.push(name);
	return name;
}

export function deleteDatabase(name: string): Promise<void> {
	return new Promise((resolve, reject) => {
		const request = indexedDB.deleteDatabase(name);
		request.onsuccess = () => resolve();
		request.onerror = () => reject(request.error);
	});
}

/** Deletes every database made through `freshName` and not deleted yet by the suite. */
export async function deleteCreatedDatabases(): Promise<void> {
	for (const name of created.splice(0)) await deleteDatabase(name);
}

/** Progress of a long suite, forwarded to the driver's stderr. */
export function log(message: string): void {
	console.error(`[page] ${message}`);
}

export function openRaw(name: string, setup: (db: IDBDatabase) => void): Promise<IDBDatabase> {
	return new Promise((resolve, reject) => {
		const request = indexedDB.open(name, 1);
		request.onupgradeneeded = () => setup(request.result);
		request.onsuccess = () => resolve(request.result);
		request.onerror = () => reject(request.error);
	});
}

export function writeRaw(db: IDBDatabase, write: (store: IDBObjectStore) => void): Promise<void> {
	return new Promise((resolve, reject) => {
		const tx = db.transaction('blocks', 'readwrite', { durability: 'strict' });
		write(tx.objectStore('blocks'));
		tx.oncomplete = () => resolve();
		tx.onerror = () => reject(tx.error);
	});
}
