import type { CborValue } from './codec.js';

/** Hex of a block id (sha256, 32 bytes). */
export type BlockId = string & { readonly __brand: 'BlockId' };
/** Hex of an author's ed25519 public key (32 bytes). */
export type AuthorId = string & { readonly __brand: 'AuthorId' };

/** A typed transaction: `t` names its type, the other fields are the type's own. */
export interface Tx {
	readonly t: string;
	readonly [field: string]: CborValue;
}

/** A decoded block. Byte fields are kept as hex for use as keys; `bytes` is the wire form. */
export interface Block {
	readonly id: BlockId;
	/** Network id; null only for a genesis block, whose own id is the network id. */
	readonly net: BlockId | null;
	readonly author: AuthorId;
	readonly seq: number;
	readonly prev: BlockId | null;
	readonly deps: readonly BlockId[];
	readonly clock: number;
	readonly time: number;
	readonly txs: readonly Tx[];
	/** Canonical CBOR of the body: the bytes that are hashed. */
	readonly body: Uint8Array;
	readonly signature: Uint8Array;
	/** Wire encoding: canonical CBOR `[id, body, signature]`. */
	readonly bytes: Uint8Array;
}

/** {author: highest contiguous seq held}. */
export type VersionVector = Record<string, number>;

/** The newest block of one author's chain. */
export interface Head {
	readonly author: AuthorId;
	readonly seq: number;
	readonly id: BlockId;
	readonly clock: number;
}
