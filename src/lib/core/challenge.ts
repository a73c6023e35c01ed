import { sha256 } from '@noble/hashes/sha2.js';
import { compareBytes, concatBytes, fromHex, utf8 } from './bytes.js';
import type { AuthorId, BlockId } from './types.js';

/** Domain tag of sync handshake challenges; distinct from the block id tag. */
export const CHALLENGE_DOMAIN = utf8('clinic-ledger/sync-auth/v2');

/** One side of a sync handshake: the key it claims and the fresh nonce of its `hello`. */
export interface HandshakeParty {
	readonly author: AuthorId;
	readonly nonce: Uint8Array;
}

/** Everything both ends of one link know once both hellos are in. */
export interface HandshakeTranscript {
	readonly net: BlockId;
	readonly parties: readonly [HandshakeParty, HandshakeParty];
	/** The link's own identity (digest of its DTLS fingerprints) when the transport exposes one. */
	readonly binding?: Uint8Array;
}

/**
 * What `signer` signs to prove, on one link, that it holds its key: the network, both
 * keys and both nonces (in an order both ends agree on without knowing who dialled), the
 * link binding and the signer itself. An answer is worthless on any other link, to any
 * other peer, in the other direction, or as a block signature (own domain tag).
 */
export function challengeDigest(transcript: HandshakeTranscript, signer: AuthorId): Uint8Array {
	const parties = transcript.parties.map((p) => ({ key: fromHex(p.author), nonce: p.nonce }));
	parties.sort((x, y) => compareBytes(x.key, y.key) || compareBytes(x.nonce, y.nonce));
	const binding = transcript.binding ?? new Uint8Array(0);
	const length = new Uint8Array(4);
	new DataView(length.buffer).setUint32(0, binding.length);
	return sha256(
		concatBytes(CHALLENGE_DOMAIN, fromHex(transcript.net), fromHex(signer), ...parties.flatMap((p) => [p.key, p.nonce]), length, binding)
	);
}
