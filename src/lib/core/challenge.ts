import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, fromHex, utf8 } from './bytes.js';
import type { AuthorId, BlockId } from './types.js';

/** Domain tag of sync handshake challenges; distinct from the block id tag. */
export const CHALLENGE_DOMAIN = utf8('clinic-ledger/sync-auth/v1');

/**
 * What a node signs to prove it holds `author`'s key to a peer that sent `nonce`: bound
 * to the network and the signer, and hashed under its own domain so a signature over it
 * can never pass as a block signature.
 */
export function challengeDigest(net: BlockId, nonce: Uint8Array, author: AuthorId): Uint8Array {
	return sha256(concatBytes(CHALLENGE_DOMAIN, fromHex(net), nonce, fromHex(author)));
}
