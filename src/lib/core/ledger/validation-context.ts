/**
 * The {@link ValidationContext} a batch is judged in: the stored blocks plus those the
 * batch staged before, membership at each block's causal position, the transaction
 * rules, and the void set for blocks that are valid but have no effect.
 */
import type { Verifier } from '../crypto/verifier.js';
import { ADMIN } from '../membership.js';
import type { TxRule } from '../rules.js';
import type { LedgerStore } from '../storage/store.js';
import type { AuthorId, BlockId, Head } from '../types.js';
import type { ValidationContext } from '../validate.js';
import type { BlockView, Staged } from './block-view.js';
import type { MembershipIndex } from './membership-index.js';
import type { VoidSet } from './void-set.js';

/** The ledger's parts a validation context reads. */
export interface ContextParts {
	readonly net: BlockId;
	readonly verifier: Verifier;
	readonly store: LedgerStore;
	readonly view: BlockView;
	readonly membership: MembershipIndex;
	readonly voids: VoidSet;
	readonly rules: ReadonlyMap<string, TxRule>;
}

/**
 * The context for the next block of a batch: `staged` and `heads` include the batch so far.
 * `unstored`: an id the caller knows is not in the store (the verified block being judged,
 * when it lies past its author's committed head: see `Pipeline`); `meta` answers it from
 * the staged blocks and the cache without a store read. `absent`: ids the caller found
 * missing from the store since its last write (predecessors a batch names before they
 * arrive), answered the same way.
 */
export function batchContext(
	parts: ContextParts,
	staged: Staged,
	heads: ReadonlyMap<AuthorId, Head>,
	unstored?: BlockId,
	absent: ReadonlySet<BlockId> = new Set()
): ValidationContext {
	const { net, verifier, store, view, membership, voids, rules } = parts;
	const at = async (author: AuthorId, seq: number) => {
		const head = heads.get(author);
		if (!head || seq > head.seq) return undefined;
		const stored = await store.at(author, seq);
		const inBatch = [...staged.values()].filter((m) => m.author === author && m.seq === seq);
		const all = [...(stored ? [stored] : []), ...inBatch].sort((x, y) => (x.id < y.id ? -1 : 1));
		const first = all[0];
		return first ? { id: first.id, author, seq, clock: first.clock } : undefined;
	};
	return {
		net,
		verifier,
		meta: (id) => view.meta(id, staged, id !== unstored && !absent.has(id)),
		at,
		headSeq: async (author) => heads.get(author)?.seq ?? -1,
		admit: async (block) => {
			let found: { roster: Map<AuthorId, string>; revoked: Set<AuthorId> };
			if (block.net === null) found = { roster: new Map(), revoked: new Set() };
			else {
				found = membership.causalMembership(await view.pastVV(block, staged));
				if (!found.roster.has(block.author))
					return { code: 'NOT_A_MEMBER', detail: `author ${block.author.slice(0, 12)} is not a member at this block's causal position` };
			}
			const { roster, revoked } = found;
			const role = block.net === null ? ADMIN : roster.get(block.author)!;
			for (const [i, tx] of block.txs.entries()) {
				const rule = rules.get(tx.t);
				if (rule?.roles && !rule.roles.includes(role)) {
					return {
						code: 'NOT_AUTHORIZED',
						detail: `txs[${i}] (${tx.t}): a member with role "${role}" may not sign it (allowed: ${rule.roles.join(', ')})`
					};
				}
				const problem = rule ? rule.check(tx, { block, roster, role, revoked }) : `unknown transaction type ${tx.t}`;
				if (problem) return { code: 'TX_INVALID', detail: `txs[${i}] (${tx.t}): ${problem}` };
			}
			return null;
		},
		voidReason: (block, fork) => voids.voidReason(block, fork, () => view.pastVV(block, staged))
	};
}
