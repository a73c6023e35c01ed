/**
 * The device identity: this browser's node key pair, kept in its own small IndexedDB
 * database, apart from the ledger so that wiping or replacing a ledger never loses the
 * key that signed its blocks.
 *
 * The secret key is stored encrypted under a passphrase (domain/keystore.ts: scrypt,
 * cost measured on this device, XChaCha20-Poly1305). The record is version 2; a version 1
 * record (the key pair in clear, as stored before passphrases) is kept until the person
 * chooses a passphrase, then encrypted in place. Every write checks, in its transaction,
 * that the record is still the one the operation started from, so two tabs cannot
 * overwrite each other's key, and a failed attempt changes nothing.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import { bytesEqual, CodedError, generateKeyPair, publicKeyOf, toHex, type AuthorId } from '$lib/core/index.js';
import { backupFileName, encodeBackup, parseBackup } from './key-backup.js';
import {
	KeystoreError,
	checkEncryptedKey,
	decryptIdentity,
	encryptIdentity,
	type BackupNetwork,
	type EncryptedKey,
	type OnProgress,
	type ScryptParams
} from './keystore.js';

/** Name of the identity database (one per browser origin). */
export const IDENTITY_DB = 'clinic-ledger-identity';
const IDENTITY_KEY = 'node';

/** This node's key pair, unlocked, and when it was made. */
export interface Identity {
	/** 32-byte ed25519 seed. Only in memory: the stored record holds it encrypted. */
	readonly secretKey: Uint8Array;
	readonly publicKey: Uint8Array;
	/** Creation time, ms since the epoch. */
	readonly createdAt: number;
}

/** What this browser holds, as the lock screen needs to know it (no secret). */
export type StoredKey =
	| { readonly kind: 'none' }
	/** A version 1 record: the key pair in clear, waiting for a passphrase. */
	| { readonly kind: 'plain'; readonly publicKey: Uint8Array; readonly createdAt: number }
	| { readonly kind: 'encrypted'; readonly publicKey: Uint8Array; readonly createdAt: number; readonly record: EncryptedKey }
	/**
	 * A record that is neither: reported and never replaced, except by a backup of its key
	 * (any backup when its public key cannot be read either).
	 */
	| { readonly kind: 'damaged'; readonly publicKey: Uint8Array | null; readonly error: Error };

type StoredRecord = EncryptedKey | Identity;

interface IdentityDB extends DBSchema {
	keys: { key: string; value: StoredRecord };
}

export interface IdentityOptions {
	/** Injected factory (fake-indexeddb in Node tests); defaults to the global one. */
	indexedDB?: IDBFactory;
	/** Database name; defaults to {@link IDENTITY_DB}. */
	name?: string;
	/** Progress of the key derivation under way: 'unlock' opens a key, 'protect' encrypts one. */
	onProgress?: (fraction: number, step: 'unlock' | 'protect') => void;
	/**
	 * scrypt setting to encrypt a stored key with instead of measuring this device: for tests
	 * of storage, migration and restore, not of cost (keystore-encryption.test.ts measures).
	 * The app never passes it: every key it stores is encrypted at a cost measured where it is.
	 */
	kdf?: ScryptParams;
}

async function open(options: IdentityOptions): Promise<IDBPDatabase<IdentityDB>> {
	const factory = options.indexedDB ?? globalThis.indexedDB;
	if (!factory) throw new CodedError('NO_INDEXEDDB', 'IndexedDB is not available: this browser cannot keep a node identity');
	const previous = globalThis.indexedDB;
	// idb reads the global factory; swap it only for the duration of the open call.
	if (factory !== previous) Object.defineProperty(globalThis, 'indexedDB', { value: factory, configurable: true, writable: true });
	try {
		return await openDB<IdentityDB>(options.name ?? IDENTITY_DB, 1, {
			upgrade(database) {
				database.createObjectStore('keys');
			}
		});
	} finally {
		if (factory !== previous) Object.defineProperty(globalThis, 'indexedDB', { value: previous, configurable: true, writable: true });
	}
}

/** Code `IDENTITY_DAMAGED`: the stored identity cannot be read. */
function damagedPlain(): CodedError {
	// Never replace a damaged identity silently: the blocks it signed would be orphaned.
	return new CodedError(
		'IDENTITY_DAMAGED',
		`the node identity stored in "${IDENTITY_DB}" is damaged; it was not replaced. Restore it from a key backup file or clear this site's data to start a new node`
	);
}

function classify(value: StoredRecord | undefined): StoredKey {
	try {
		return classifyOrThrow(value);
	} catch (error) {
		if (!(error instanceof Error)) throw error;
		const publicKey = (value as { publicKey?: unknown } | null)?.publicKey;
		return { kind: 'damaged', publicKey: publicKey instanceof Uint8Array && publicKey.length === 32 ? publicKey : null, error };
	}
}

function classifyOrThrow(value: StoredRecord | undefined): StoredKey {
	if (value === undefined) return { kind: 'none' };
	if (value !== null && typeof value === 'object' && 'version' in value) {
		const record = checkEncryptedKey(value, 'stored');
		return { kind: 'encrypted', publicKey: record.publicKey, createdAt: record.createdAt, record };
	}
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
	if (!ok) throw damagedPlain();
	return { kind: 'plain', publicKey: v.publicKey!, createdAt: v.createdAt! };
}

async function readRecord(options: IdentityOptions): Promise<StoredRecord | undefined> {
	const db = await open(options);
	try {
		return await db.get('keys', IDENTITY_KEY);
	} finally {
		db.close();
	}
}

/** What this browser holds (a damaged record is reported as such, never replaced silently). */
export async function readStoredKey(options: IdentityOptions = {}): Promise<StoredKey> {
	return classify(await readRecord(options));
}

/**
 * Writes `record` in one strict-durability transaction, only if the stored record still
 * has the public key `expected` (null: still no record), in the state `kind`.
 */
async function replaceRecord(record: EncryptedKey, expected: StoredKey, options: IdentityOptions): Promise<void> {
	const db = await open(options);
	try {
		const tx = db.transaction('keys', 'readwrite', { durability: 'strict' });
		const current = classify(await tx.store.get(IDENTITY_KEY));
		const same = current.kind === expected.kind && samePublicKey(current, expected);
		if (!same) {
			tx.abort();
			await tx.done.catch(() => undefined);
			throw new KeystoreError(
				'KEY_CHANGED',
				'The key of this browser was changed meanwhile (in another tab?). Nothing was written; reload the page.'
			);
		}
		await tx.store.put(record, IDENTITY_KEY);
		await tx.done;
	} finally {
		db.close();
	}
}

function heldKey(stored: StoredKey): Uint8Array | null {
	return stored.kind === 'none' ? null : stored.publicKey;
}

function samePublicKey(a: StoredKey, b: StoredKey): boolean {
	const x = heldKey(a);
	const y = heldKey(b);
	return x === null || y === null ? x === y : bytesEqual(x, y);
}

function progress(options: IdentityOptions, step: 'unlock' | 'protect'): OnProgress | undefined {
	const report = options.onProgress;
	return report ? (fraction) => report(fraction, step) : undefined;
}

/** Encrypts a key pair for this browser: cost measured here, as every record the app stores is (tests may set it: `options.kdf`). */
function protect(key: Identity, passphrase: string, options: IdentityOptions): Promise<EncryptedKey> {
	const onProgress = progress(options, 'protect');
	return encryptIdentity(key, passphrase, {
		purpose: 'stored',
		...(options.kdf ? { params: options.kdf } : {}),
		...(onProgress ? { onProgress } : {})
	});
}

/**
 * First run: makes a key pair, encrypts it under `passphrase` and stores it. Refused
 * (`KEY_CHANGED`) when a key appeared meanwhile (another tab).
 */
export async function createIdentity(passphrase: string, options: IdentityOptions = {}): Promise<Identity> {
	const stored = await readStoredKey(options);
	if (stored.kind === 'damaged') throw stored.error;
	if (stored.kind !== 'none')
		throw new KeystoreError('KEY_CHANGED', 'This browser already holds a key (made in another tab?). Reload the page.');
	const fresh: Identity = { ...generateKeyPair(), createdAt: Date.now() };
	const record = await protect(fresh, passphrase, options);
	await replaceRecord(record, stored, options);
	return fresh;
}

/** The stored key, decrypted with `passphrase`; `WRONG_PASSPHRASE` changes nothing. */
export async function unlockIdentity(passphrase: string, options: IdentityOptions = {}): Promise<Identity> {
	const stored = await readStoredKey(options);
	if (stored.kind === 'damaged') throw stored.error;
	if (stored.kind !== 'encrypted')
		throw new KeystoreError('NO_KEY', 'This browser holds no passphrase-protected key to unlock. Reload the page.');
	const onProgress = progress(options, 'unlock');
	return decryptIdentity(stored.record, passphrase, { purpose: 'stored', ...(onProgress ? { onProgress } : {}) });
}

/**
 * Migration from version 1: encrypts the key pair stored in clear under `passphrase`,
 * in place (one transaction, strict durability; the same key, so nothing it signed changes).
 */
export async function protectStoredIdentity(passphrase: string, options: IdentityOptions = {}): Promise<Identity> {
	const value = await readRecord(options);
	const stored = classify(value);
	if (stored.kind === 'damaged') throw stored.error;
	if (stored.kind !== 'plain')
		throw new KeystoreError(
			'KEY_CHANGED',
			'The key of this browser is already protected by a passphrase (in another tab?). Reload the page.'
		);
	const plain = value as Identity;
	const key: Identity = {
		secretKey: new Uint8Array(plain.secretKey),
		publicKey: new Uint8Array(plain.publicKey),
		createdAt: plain.createdAt
	};
	const record = await protect(key, passphrase, options);
	await replaceRecord(record, stored, options);
	return key;
}

/**
 * Restores a key from a backup file opened with its passphrase, then stores it here
 * under that same passphrase (cost measured on this device). A browser that already
 * holds a key accepts only a backup of that key (a forgotten passphrase is replaced; so
 * is a damaged record, checked against its public key when that can still be read).
 * Any refusal (`NOT_A_BACKUP`, `UNSUPPORTED_BACKUP`, `DAMAGED_BACKUP`, `FOREIGN_BACKUP`,
 * `WRONG_PASSPHRASE`) leaves the stored record as it was.
 */
export async function restoreIdentity(fileText: string, passphrase: string, options: IdentityOptions = {}): Promise<Identity> {
	const backup = parseBackup(fileText);
	const stored = await readStoredKey(options);
	const held = heldKey(stored);
	if (held && !bytesEqual(held, backup.key.publicKey)) {
		throw new KeystoreError(
			'FOREIGN_BACKUP',
			`This backup holds another node's key (${toHex(backup.key.publicKey).slice(0, 12)}…), not this browser's (${toHex(held).slice(0, 12)}…). Nothing was changed.`
		);
	}
	const onProgress = progress(options, 'unlock');
	const key = await decryptIdentity(backup.key, passphrase, { purpose: 'backup', ...(onProgress ? { onProgress } : {}) });
	const record = await protect(key, passphrase, options);
	await replaceRecord(record, stored, options);
	return key;
}

export interface BackupOptions extends IdentityOptions {
	/** Passphrase for the file; defaults to the key's passphrase. */
	backupPassphrase?: string;
	network?: BackupNetwork | null;
}

/**
 * A backup file of the stored key: opened with `passphrase` (`WRONG_PASSPHRASE`
 * otherwise), encrypted again for the file with a fresh salt and nonce, under the
 * scrypt setting measured on this device.
 */
export async function exportIdentityBackup(passphrase: string, options: BackupOptions = {}): Promise<{ text: string; fileName: string }> {
	const stored = await readStoredKey(options);
	if (stored.kind === 'damaged') throw stored.error;
	if (stored.kind !== 'encrypted') throw new KeystoreError('NO_KEY', 'This browser holds no passphrase-protected key to back up.');
	const unlockProgress = progress(options, 'unlock');
	const key = await decryptIdentity(stored.record, passphrase, {
		purpose: 'stored',
		...(unlockProgress ? { onProgress: unlockProgress } : {})
	});
	try {
		const { N, r, p } = stored.record.kdf;
		const protectProgress = progress(options, 'protect');
		const encrypted = await encryptIdentity(key, options.backupPassphrase ?? passphrase, {
			purpose: 'backup',
			params: { N, r, p },
			...(protectProgress ? { onProgress: protectProgress } : {})
		});
		const exportedAt = Date.now();
		return {
			text: encodeBackup({ key: encrypted, exportedAt, network: options.network ?? null }),
			fileName: backupFileName(key.publicKey, exportedAt)
		};
	} finally {
		key.secretKey.fill(0);
	}
}

/** The author id (hex public key) of an identity, as blocks name it. */
export function authorIdOf(identity: { readonly publicKey: Uint8Array }): AuthorId {
	return toHex(identity.publicKey) as AuthorId;
}
