/**
 * The device identity: this browser's node key pair, created on first open and kept in
 * its own small IndexedDB database, apart from the ledger so that wiping or replacing a
 * ledger never loses the key that signed its blocks.
 *
 * SECURITY NOTE: the secret key is stored UNENCRYPTED for now. Anyone with access to this
 * browser profile can read it and sign as this node. Encrypting it with a
 * passphrase-derived key (scrypt, the architecture's "Privacy" section) is a planned issue;
 * until then the UI says so in its footer.
 */
import { openDB, type DBSchema } from 'idb';
import { bytesEqual, generateKeyPair, publicKeyOf, toHex, type AuthorId } from '$lib/core/index.js';

/** Name of the identity database (one per browser origin). */
export const IDENTITY_DB = 'clinic-ledger-identity';
const IDENTITY_KEY = 'node';

/** This node's key pair and when it was made. */
export interface Identity {
	/** 32-byte ed25519 seed. Stored unencrypted (see the note at the top of this file). */
	readonly secretKey: Uint8Array;
	readonly publicKey: Uint8Array;
	/** Creation time, ms since the epoch. */
	readonly createdAt: number;
}

interface IdentityDB extends DBSchema {
	keys: { key: string; value: Identity };
}

export interface IdentityOptions {
	/** Injected factory (fake-indexeddb in Node tests); defaults to the global one. */
	indexedDB?: IDBFactory;
	/** Database name; defaults to {@link IDENTITY_DB}. */
	name?: string;
}

function checkStored(value: unknown): Identity {
	const v = value as Partial<Identity> | null;
	const ok =
		v !== null &&
		typeof v === 'object' &&
		v.secretKey instanceof Uint8Array &&
		v.secretKey.length === 32 &&
		v.publicKey instanceof Uint8Array &&
		v.publicKey.length === 32 &&
		typeof v.createdAt === 'number' &&
		bytesEqual(publicKeyOf(v.secretKey), v.publicKey);
	// Never replace a damaged identity silently: the blocks it signed would be orphaned.
	if (!ok) throw new Error(`the node identity stored in "${IDENTITY_DB}" is damaged; it was not replaced. Restore it from a backup or clear this site's data to start a new node`);
	return { secretKey: v.secretKey!, publicKey: v.publicKey!, createdAt: v.createdAt! };
}

/**
 * This browser's identity: loaded when it exists, otherwise created and stored. Safe
 * when several tabs open at once: the check and the write share one transaction, so
 * exactly one key pair wins and every tab gets that one.
 */
export async function loadOrCreateIdentity(options: IdentityOptions = {}): Promise<Identity> {
	const factory = options.indexedDB ?? globalThis.indexedDB;
	if (!factory) throw new Error('IndexedDB is not available: this browser cannot keep a node identity');
	const previous = globalThis.indexedDB;
	// idb reads the global factory; swap it only for the duration of the open call.
	if (factory !== previous) Object.defineProperty(globalThis, 'indexedDB', { value: factory, configurable: true, writable: true });
	let db;
	try {
		db = await openDB<IdentityDB>(options.name ?? IDENTITY_DB, 1, {
			upgrade(database) {
				database.createObjectStore('keys');
			}
		});
	} finally {
		if (factory !== previous) Object.defineProperty(globalThis, 'indexedDB', { value: previous, configurable: true, writable: true });
	}
	try {
		// Generated before the transaction: an IndexedDB transaction commits as soon as it
		// waits on anything but its own requests.
		const fresh = { ...generateKeyPair(), createdAt: Date.now() };
		const tx = db.transaction('keys', 'readwrite', { durability: 'strict' });
		const stored = await tx.store.get(IDENTITY_KEY);
		if (stored === undefined) await tx.store.add(fresh, IDENTITY_KEY);
		await tx.done;
		return stored === undefined ? fresh : checkStored(stored);
	} finally {
		db.close();
	}
}

/** The author id (hex public key) of an identity, as blocks name it. */
export function authorIdOf(identity: Identity): AuthorId {
	return toHex(identity.publicKey) as AuthorId;
}
