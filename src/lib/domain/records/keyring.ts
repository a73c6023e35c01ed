/**
 * A node's keyring: its own X25519 secret (derived from its device key at unlock), the
 * data keys it could unwrap, and the three things a node does with them: seal a new
 * record (`sealRecordTxs`), open a stored one (`openVersion`), and share keys it holds
 * with readers the patient granted or a clinician who broke the glass (`pendingShares`).
 *
 * Who receives a data key is decided from ledger state only (key-readers.ts): the patient,
 * members with a grant in force for that category, the devices of a granted clinic, and
 * clinicians who recorded an emergency access. A revoked member never does.
 */
import { CodedError, decodeBlock, fromHex, toHex, type AuthorId, type CborValue, type Tx } from '$lib/core/index.js';
import { currentEpoch } from '../privacy/access.js';
import {
	dataKeyId,
	EnvelopeError,
	isDataKeyId,
	newDataKey,
	openRecord,
	sealRecord,
	unwrapKey,
	wrapKey,
	wrapKeyFor,
	type Category,
	type RecordContext,
	type WrappedKey
} from '../privacy/envelope.js';
import type { RecordEntry, RecordVersion } from './fold.js';
import { keySlot, type KeyEntry } from './key-index.js';

/** The patient and category a record is bound to. */
export type RecordBinding = Pick<RecordEntry, 'patient' | 'category'>;
import { reasonFor, readersOf, servedReaders, type RecordsView } from './key-readers.js';
import { newRecordId } from './record-id.js';
import { roomsToJoin, type RoomRotations, type RoomToJoin } from '../room-secret.js';
import { MAX_WRAPS } from './transactions.js';

export { accessBasis, BREAK_GLASS_MS, newPatientView, readersOf, type RecordsView } from './key-readers.js';

/** Keys made while sealing several records before any is on the ledger, by `patient/category/epoch`. */
export type SealBatch = Map<string, { kid: string; key: Uint8Array; readers: readonly string[] }>;

/** This node holds no key for the record (no grant, or no such record): code `NO_ACCESS`. */
export class NoAccessError extends CodedError {
	override readonly name = 'NoAccessError';
	constructor(message: string) {
		super('NO_ACCESS', message);
	}
}

/** What a node could unwrap of one key slot: the key its id commits to, or else the keys of an id made before commitments. */
interface Unwrapped {
	/** Wraps for this node looked at (a new wrap means looking again). */
	readonly seen: number;
	readonly verified: Uint8Array | null;
	/** Keys that unwrapped but are not the id's commitment: the genuine key of an old random id, or bogus. */
	readonly unverified: readonly Uint8Array[];
}

export class Keyring {
	readonly #secretX: Uint8Array;
	readonly #keys = new Map<string, Unwrapped>();

	/** `self`: this node's key (hex); `secretX`: its X25519 secret (kept, not copied). */
	constructor(
		readonly self: string,
		secretX: Uint8Array
	) {
		this.#secretX = secretX;
	}

	/** The signaling rooms this node should be in now (domain/room-secret.ts): opening a rotated room secret takes this node's X25519 secret. */
	roomsToJoin(net: string, linkSecret: string, rotations: RoomRotations, now: number): RoomToJoin[] {
		return roomsToJoin({ net, linkSecret, rotations, self: this.self as AuthorId, secretX: this.#secretX, now });
	}

	/**
	 * Tries every wrap for this node in key slot `slot`. Throws {@link EnvelopeError} when
	 * there are wraps and none opens (all changed or bogus); null when there are none.
	 */
	#unwrap(view: RecordsView, slot: string): Unwrapped | null {
		const entry = view.keys.get(slot);
		const wraps = entry?.readers[this.self] ?? [];
		const cached = this.#keys.get(slot);
		if (cached && (cached.verified || cached.seen === wraps.length)) return cached;
		if (!entry || wraps.length === 0) return null;
		const context = contextOf(view.net, entry);
		const kid = fromHex(entry.kid);
		let verified: Uint8Array | null = null;
		const unverified: Uint8Array[] = [];
		for (const wrap of wraps) {
			let key: Uint8Array;
			try {
				key = unwrapKey(wrap, this.self, this.#secretX, context);
			} catch {
				continue;
			}
			if (isDataKeyId(kid, key, context)) {
				verified = key;
				break;
			}
			if (!unverified.some((k) => k.every((b, i) => b === key[i]))) unverified.push(key);
		}
		if (!verified && unverified.length === 0)
			throw new EnvelopeError('no wrapped key for this node opens: each was changed, or written by someone without the key');
		const result = { seen: wraps.length, verified, unverified: verified ? [] : unverified };
		this.#keys.set(slot, result);
		return result;
	}

	/**
	 * The data key of key slot `slot` (key-index.ts `keySlot`) when a key wrapped for this node
	 * is the one its id commits to; null otherwise (no wrap, or a key id made before
	 * commitments: such a key only opens records, it never seals new ones). Throws
	 * {@link EnvelopeError} when every wrap for this node was changed or is bogus.
	 */
	dataKey(view: RecordsView, slot: string): Uint8Array | null {
		return this.#unwrap(view, slot)?.verified ?? null;
	}

	/**
	 * Opens one version of record `rid`, bound to `record`'s patient and category
	 * (record-index.ts), from its block's bytes. Throws {@link NoAccessError}
	 * when this node holds no key for it, {@link EnvelopeError} when anything was changed.
	 */
	openVersion(view: RecordsView, rid: string, record: RecordBinding, version: RecordVersion, blockBytes: Uint8Array): Uint8Array {
		return this.openTx(view, rid, record, version, decodeBlock(blockBytes).txs[version.index]);
	}

	/** {@link openVersion} from the block's decoded transaction (a chart decodes each block once). */
	openTx(view: RecordsView, rid: string, record: RecordBinding, version: RecordVersion, tx: Tx | undefined): Uint8Array {
		const keys = this.#unwrap(view, keySlot(record.patient, record.category, version.epoch, version.kid));
		if (!keys) throw new NoAccessError('this node holds no key for this record: the patient has not granted it access to this category');
		if (!tx || tx.t !== 'record.put' || toHex(tx.rid as Uint8Array) !== rid) throw new EnvelopeError('the block does not hold this record');
		const context = { ...contextOf(view.net, { patient: record.patient, category: record.category, epoch: version.epoch }), rid };
		const sealed = { nonce: tx.nonce as Uint8Array, ct: tx.ct as Uint8Array };
		// An old random key id proves nothing: the key that opens the record is the record's key.
		const candidates = keys.verified ? [keys.verified] : keys.unverified;
		// The error is made only when it is thrown: capturing a stack per record cost ~7 µs on each of a chart's records.
		let failure: unknown = null;
		for (const key of candidates) {
			try {
				return openRecord(key, sealed, context);
			} catch (error) {
				failure = error;
			}
		}
		throw failure ?? new EnvelopeError('no key to try');
	}

	/**
	 * The transactions that store `plaintext` as a record of `patient`'s `category`:
	 * `key.wrap` when a key is created or a current reader lacks it, then `record.put`.
	 * A key is reused only while everyone it was wrapped for is still a reader, so a
	 * revoked, expired or removed reader never gets a key that opens newer data; and only
	 * when it is the key its id commits to, so a bogus wrap never makes a node seal data
	 * under a key its author knows. Throws {@link NoAccessError} when this node is not
	 * itself a reader. An amendment names its record (`rid`) and the salt its id commits to.
	 */
	sealRecordTxs(
		view: RecordsView,
		input: { patient: string; category: Category; plaintext: Uint8Array; now: number; rid?: string; salt?: string; prev?: string },
		batch?: SealBatch
	): { txs: Tx[]; rid: string } {
		const { patient, category, now } = input;
		const readers = readersOf(view, patient, category, now);
		if (!readers.includes(this.self))
			throw new NoAccessError(
				'The patient has not granted this node access to this category; ask for access (or use emergency access) first.'
			);
		const epoch = currentEpoch(view.access, patient, category);
		const context = contextOf(view.net, { patient, category, epoch });
		const txs: Tx[] = [];
		let kid: string | null = null;
		let key: Uint8Array | null = null;
		const slot = `${patient}/${category}/${epoch}`;
		const pending = batch?.get(slot);
		if (pending && pending.readers.every((r) => readers.includes(r)) && readers.every((r) => pending.readers.includes(r))) {
			// A key made earlier in the same batch, not yet on the ledger.
			kid = pending.kid;
			key = pending.key;
		}
		for (const entry of kid ? [] : view.keys.ofPatient(patient)) {
			if (entry.category !== category || entry.epoch !== epoch) continue;
			// Any wrap counts here, bogus or not: a wrap for a non-reader costs a new key, never a leak.
			if (!Object.keys(entry.readers).every((r) => readers.includes(r))) continue;
			let held: Uint8Array | null;
			try {
				held = this.dataKey(view, keySlot(patient, category, epoch, entry.kid));
			} catch {
				continue;
			}
			if (!held) continue;
			kid = entry.kid;
			key = held;
			const served = servedReaders(entry, this.self, readers);
			const missing = readers.filter((r) => !served.has(r));
			if (missing.length > 0) txs.push(...wrapTxs(view.net, entry, entry.kid, held, missing));
			break;
		}
		if (!kid || !key) {
			key = newDataKey();
			kid = toHex(dataKeyId(key, context));
			this.#keys.set(keySlot(patient, category, epoch, kid), { seen: 0, verified: key, unverified: [] });
			txs.push(...wrapTxs(view.net, { patient, category, epoch }, kid, key, readers));
			batch?.set(slot, { kid, key, readers });
		}
		const id = input.rid ? { rid: input.rid, salt: input.salt } : newRecordId(patient, category);
		const sealed = sealRecord(key, input.plaintext, { ...context, rid: id.rid });
		txs.push({
			t: 'record.put',
			patient: fromHex(patient),
			category,
			epoch,
			kid: fromHex(kid),
			rid: fromHex(id.rid),
			...(id.salt ? { salt: fromHex(id.salt) } : {}),
			...(input.prev ? { prev: fromHex(input.prev) } : {}),
			nonce: sealed.nonce,
			ct: sealed.ct
		});
		return { txs, rid: id.rid };
	}

	/**
	 * `key.wrap` transactions sharing keys this node holds with readers who lack them:
	 * grantees of grants in force (for every key of the granted categories, history
	 * included) and clinicians who recorded an emergency access.
	 */
	pendingShares(view: RecordsView, now: number): Tx[] {
		const txs: Tx[] = [];
		for (const entry of view.keys.all()) {
			if (!entry.readers[this.self]) continue;
			const slot = keySlot(entry.patient, entry.category, entry.epoch, entry.kid);
			const readers = readersOf(view, entry.patient, entry.category, now);
			const served = servedReaders(entry, this.self, readers);
			const missing = readers.filter((r) => !served.has(r));
			if (missing.length === 0) continue;
			let keys: Unwrapped | null;
			try {
				keys = this.#unwrap(view, slot);
			} catch {
				continue; // only changed or bogus wraps: nothing to share from them
			}
			// A key of an old random id cannot be told from a bogus one without a record: pass each on, the reader tries them.
			for (const key of keys?.verified ? [keys.verified] : (keys?.unverified ?? []))
				txs.push(...wrapTxs(view.net, entry, entry.kid, key, missing, reasonFor(view, entry, missing, now)));
		}
		return txs;
	}

	/**
	 * A patient's secret key kept for this node alone until the patient's card is printed
	 * (after an import). Wrapped like a data key, at epoch -1 so it can never pass for one.
	 */
	wrapForSelf(net: string, patient: string, secret: Uint8Array): WrappedKey {
		return wrapKey(secret, this.self, fromHex(this.self), { net, patient, category: 'demographics', epoch: -1 });
	}

	/** The secret kept by {@link wrapForSelf}; throws {@link EnvelopeError} when changed. */
	unwrapForSelf(net: string, patient: string, wrap: WrappedKey): Uint8Array {
		return this.openWrapped(wrap, { net, patient, category: 'demographics', epoch: -1 });
	}

	/** Opens a key wrapped for this node outside the record index (study keys, research results); throws {@link EnvelopeError} when it is not for this node. */
	openWrapped(wrap: WrappedKey, context: RecordContext): Uint8Array {
		return unwrapKey(wrap, this.self, this.#secretX, context);
	}

	/** Forgets every data key (on lock). */
	clear(): void {
		for (const keys of this.#keys.values()) for (const key of [keys.verified, ...keys.unverified]) key?.fill(0);
		this.#keys.clear();
		this.#secretX.fill(0);
	}
}

const contextOf = (net: string, e: Pick<KeyEntry, 'patient' | 'category' | 'epoch'>): RecordContext => ({
	net,
	patient: e.patient,
	category: e.category,
	epoch: e.epoch
});

/** `key.wrap` transactions giving `key` to `readers`, at most {@link MAX_WRAPS} wraps each. */
function wrapTxs(
	net: string,
	e: Pick<KeyEntry, 'patient' | 'category' | 'epoch'>,
	kid: string,
	key: Uint8Array,
	readers: readonly string[],
	extra: Record<string, CborValue> = {}
): Tx[] {
	const context = contextOf(net, e);
	const txs: Tx[] = [];
	for (let i = 0; i < readers.length; i += MAX_WRAPS) {
		const chunk = readers.slice(i, i + MAX_WRAPS).map((reader) => ({ reader, publicKey: fromHex(reader) }));
		const wraps = wrapKeyFor(key, chunk, context).map((w, j) => ({
			reader: chunk[j]!.publicKey,
			eph: w.eph,
			nonce: w.nonce,
			wrapped: w.wrapped
		}));
		txs.push({ t: 'key.wrap', patient: fromHex(e.patient), category: e.category, epoch: e.epoch, kid: fromHex(kid), wraps, ...extra });
	}
	return txs;
}
