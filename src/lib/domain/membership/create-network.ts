/**
 * Founding a network: one genesis block naming the clinic, listing any other founding
 * admins and the quorum of admins a membership change needs. The founder becomes its
 * first admin; the sync settings (a new room secret) are made with it.
 */
import { fromHex, Ledger, toHex, type LedgerStore, type Signer } from '$lib/core/index.js';
import { APP_LEDGER } from '../app-ledger.js';
import { memberKeyProblem, normalizeMemberKey } from '../members.js';
import { networkNameProblem } from '../network.js';
import type { NetworkConfig } from '../network-config.js';
import { newRoomSecret } from '../network-link.js';
import { MembershipRefusal } from './refusal.js';

export interface FoundingInput {
	/** The clinic's name: the network's name. */
	readonly name: string;
	/** Other founding admins' keys as typed (spaces, commas or new lines between them). */
	readonly coAdmins?: string;
	/** Admins who must sign a membership change (1 to the number of founding admins). */
	readonly quorum?: number;
}

/** The other founding admins' keys, normalized. */
export function parseCoAdmins(text: string): string[] {
	return text
		.split(/[\s,]+/)
		.map(normalizeMemberKey)
		.filter((k) => k !== '');
}

/** What is wrong with a founding form, for the founder `self` (hex key), or null. */
export function foundingProblem(input: FoundingInput, self: string): string | null {
	const coAdmins = parseCoAdmins(input.coAdmins ?? '');
	const quorum = input.quorum ?? 1;
	const keyProblem = coAdmins.map((k) => memberKeyProblem(k)).find((p) => p !== null);
	return (
		networkNameProblem(input.name) ??
		(keyProblem ? `Other founding admins: ${keyProblem}` : null) ??
		(new Set(coAdmins).size !== coAdmins.length || coAdmins.includes(self)
			? 'Other founding admins: a key is listed twice, or is this node’s own.'
			: null) ??
		(!Number.isInteger(quorum) || quorum < 1 || quorum > coAdmins.length + 1
			? `Admins needed: 1 to ${coAdmins.length + 1} (this node and the keys listed).`
			: null)
	);
}

export interface Founded {
	readonly ledger: Ledger;
	/** The new network's sync settings (not yet saved: the caller keeps them). */
	readonly config: NetworkConfig;
}

/**
 * Writes the genesis into the empty `store`, signed by `signer`; refused (nothing written)
 * when the form has a problem. `signaling` is where the founder's node finds its peers.
 */
export async function createNetwork(
	store: LedgerStore,
	signer: Signer,
	input: FoundingInput,
	signaling: readonly string[],
	now = Date.now()
): Promise<Founded> {
	const problem = foundingProblem(input, toHex(signer.publicKey));
	if (problem) throw new MembershipRefusal('NETWORK_INPUT_INVALID', problem);
	const coAdmins = parseCoAdmins(input.coAdmins ?? '');
	const quorum = input.quorum ?? 1;
	const name = input.name.trim();
	const genesis = {
		name,
		...(coAdmins.length > 0 ? { members: coAdmins.map((k) => ({ key: fromHex(k), role: 'admin' })) } : {}),
		...(quorum > 1 ? { quorum } : {})
	};
	const ledger = await Ledger.create({ store, signer, genesis, ...APP_LEDGER });
	const config: NetworkConfig = {
		net: ledger.net,
		secret: newRoomSecret(),
		signaling: [...signaling],
		name,
		origin: 'founded',
		savedAt: now
	};
	return { ledger, config };
}
