/**
 * Re-applying a keyed fold's keys (core/fold.ts `FoldKeys`) after blocks landed before
 * blocks already folded: instead of rewinding the whole fold to a checkpoint, each key the
 * batch touches is cleared and its blocks, read from the store through the fold's index,
 * are applied again in ledger order (issue 19, item 3).
 */
import { decodeBlock } from '../block.js';
import type { Fold, FoldContext, FoldKeys } from '../fold.js';
import { compareOrder, orderKey, type LedgerStore } from '../storage/store.js';
import type { Block, BlockId } from '../types.js';

/** Each block's context (the fold engine's `#contexts`), for the blocks given. */
export type ContextsFor = (blocks: readonly Block[]) => Promise<(block: Block, vv: readonly number[]) => FoldContext>;

/**
 * The keys `batch` touches in `fold`'s state, or null when one of its blocks changes the
 * shared part (or `keysOf` throws on it): then the fold must rewind.
 */
export function keysOfBatch<S>(
	keyed: FoldKeys<S>,
	state: S,
	batch: readonly Block[],
	contextOf: (block: Block) => FoldContext,
	isVoid: (id: BlockId) => boolean
): Set<string> | null {
	const keys = new Set<string>();
	for (const block of batch) {
		if (isVoid(block.id)) continue;
		let found: readonly string[] | null;
		try {
			found = keyed.keysOf(block, contextOf(block), state);
		} catch {
			return null;
		}
		if (found === null) return null;
		for (const key of found) keys.add(key);
	}
	return keys;
}

/**
 * The keys of the blocks that read what `batch` added to the indexes the fold reads
 * (`FoldKeys.dependents`), from the store: null when one of them changes the shared part.
 */
export function dependentKeys<S>(
	store: LedgerStore,
	keyed: FoldKeys<S>,
	state: S,
	batch: readonly Block[],
	contextsFor: ContextsFor,
	isVoid: (id: BlockId) => boolean
): Promise<Set<string> | null> {
	const rowKeys = [...new Set(batch.flatMap((block) => (isVoid(block.id) ? [] : (keyed.dependents?.(block) ?? []))))];
	return keysUnderRows(store, keyed, state, rowKeys, contextsFor, isVoid);
}

/** The blocks filed under `rowKeys` in the fold's index, decoded, void ones left out, in ledger order, with their contexts. */
async function blocksUnderRows<S>(
	store: LedgerStore,
	keyed: FoldKeys<S>,
	rowKeys: readonly string[],
	contextsFor: ContextsFor,
	isVoid: (id: BlockId) => boolean
): Promise<{ block: Block; context: FoldContext }[]> {
	if (rowKeys.length === 0) return [];
	const ids = [...new Set((await store.factsOfKeys(keyed.index.name, rowKeys)).flat().map((row) => row.block))];
	const blocks: { block: Block; vv: readonly number[] }[] = [];
	for (const [i, found] of (await store.getMany(ids)).entries()) {
		const entry = found && !isVoid(ids[i]!) ? decoded(found.bytes, found.vv) : null;
		if (entry) blocks.push(entry);
	}
	blocks.sort((a, b) => compareOrder(orderKey(a.block), orderKey(b.block)));
	const contexts = await contextsFor(blocks.map((e) => e.block));
	return blocks.map((e) => ({ block: e.block, context: contexts(e.block, e.vv) }));
}

/** The keys of the blocks filed under `rowKeys`: null when one of them changes the shared part. */
async function keysUnderRows<S>(
	store: LedgerStore,
	keyed: FoldKeys<S>,
	state: S,
	rowKeys: readonly string[],
	contextsFor: ContextsFor,
	isVoid: (id: BlockId) => boolean
): Promise<Set<string> | null> {
	const found = await blocksUnderRows(store, keyed, rowKeys, contextsFor, isVoid);
	const contexts = new Map(found.map((e) => [e.block.id, e.context]));
	return keysOfBatch(
		keyed,
		state,
		found.map((e) => e.block),
		(block) => contexts.get(block.id)!,
		isVoid
	);
}

/** Whether a block of `batch` that is not void changes the piece of the shared part the fold rebuilds by itself. */
export const touchesShared = <S>(keyed: FoldKeys<S>, batch: readonly Block[], isVoid: (id: BlockId) => boolean): boolean =>
	keyed.shared !== undefined && batch.some((block) => !isVoid(block.id) && keyed.shared!.touches(block));

/**
 * When `batch` changes the piece of the shared part the fold rebuilds by itself
 * (`FoldKeys.shared`): the piece rebuilt from the store, and the keys of the blocks that
 * read what changed; `commit` puts the piece in the state. Null when the fold must rewind
 * instead (the piece cannot name its readers, or one of them changes the rest of the shared
 * part); undefined when the batch does not change the piece.
 */
export async function rebuildShared<S>(
	store: LedgerStore,
	keyed: FoldKeys<S>,
	state: S,
	batch: readonly Block[],
	contextsFor: ContextsFor,
	isVoid: (id: BlockId) => boolean
): Promise<{ keys: Set<string>; commit(): void } | null | undefined> {
	const shared = keyed.shared;
	if (!shared || !touchesShared(keyed, batch, isVoid)) return undefined;
	const blocks = await blocksUnderRows(store, keyed, shared.rows, contextsFor, isVoid);
	let rebuilt: ReturnType<typeof shared.rebuild>;
	try {
		rebuilt = shared.rebuild(state, blocks, new Set(batch.map((block) => block.id)));
	} catch {
		return null; // as a `keysOf` that throws: the fold rewinds, its state untouched
	}
	if (!rebuilt) return null;
	const keys = await keysUnderRows(store, keyed, state, rebuilt.rows, contextsFor, isVoid);
	return keys && { keys, commit: rebuilt.commit };
}

/** A stored block decoded with its version vector, or null when it is damaged on disk (the refold leaves it out too). */
function decoded(bytes: Uint8Array, vv: readonly number[]): { block: Block; vv: readonly number[] } | null {
	try {
		return { block: decodeBlock(bytes), vv };
	} catch {
		return null;
	}
}

/** What a re-apply read and applied: for the tests and the benchmark. */
export interface ReapplyStats {
	keys: number;
	blocks: number;
	/** Shared pieces rebuilt (`FoldKeys.shared`) before their readers' keys were re-applied. */
	shared: number;
}

/**
 * Clears `keys` in `state` and applies each key's blocks again, in ledger order. Every
 * store read comes first, so nothing reads the state half re-applied: the blocks, then the
 * fold's pages they name (`loadPages`: a page of another kind a key's blocks read, as a
 * claim reads its coverage). A block the store holds but cannot decode is left out, as the
 * fold's refold leaves it out.
 */
export async function reapplyKeys<S>(
	store: LedgerStore,
	fold: Fold<S>,
	state: S,
	keys: ReadonlySet<string>,
	contextsFor: ContextsFor,
	isVoid: (id: BlockId) => boolean,
	loadPages: (
		blocks: readonly (readonly [Block, readonly number[]])[],
		contexts: (block: Block, vv: readonly number[]) => FoldContext
	) => Promise<void> = async () => {}
): Promise<ReapplyStats> {
	const keyed = fold.keyed!;
	const blocks = new Map<BlockId, { block: Block; vv: readonly number[] } | null>();
	const filed = new Map<string, Set<BlockId>>([...keys].map((key) => [key, new Set<BlockId>()]));
	const asked = new Set<string>();
	let pending: [key: string, row: string][] = [];
	const ask = (key: string, rows: readonly string[]) => {
		for (const row of rows) {
			const id = `${key}\u0000${row}`;
			if (asked.has(id)) continue;
			asked.add(id);
			pending.push([key, row]);
		}
	};
	for (const key of keys) ask(key, keyed.rowKeys(key));
	while (pending.length > 0) {
		const batch = pending;
		pending = [];
		const rowKeys = [...new Set(batch.map(([, row]) => row))];
		const rows = await store.factsOfKeys(keyed.index.name, rowKeys);
		const byRow = new Map(rowKeys.map((row, i) => [row, rows[i]!]));
		const wanted = new Set<BlockId>();
		for (const [, row] of batch) for (const fact of byRow.get(row)!) if (!blocks.has(fact.block)) wanted.add(fact.block);
		const ids = [...wanted];
		const stored = ids.length > 0 ? await store.getMany(ids) : [];
		ids.forEach((id, i) => {
			const found = stored[i];
			blocks.set(id, found ? decoded(found.bytes, found.vv) : null);
		});
		for (const [key, row] of batch)
			for (const fact of byRow.get(row)!) {
				const entry = blocks.get(fact.block);
				if (!entry || isVoid(fact.block)) continue;
				filed.get(key)!.add(fact.block);
				if (keyed.moreRowKeys) ask(key, keyed.moreRowKeys(entry.block, key));
			}
	}
	const all = [...blocks.values()].flatMap((entry) => (entry ? [entry] : []));
	const contexts = await contextsFor(all.map((e) => e.block));
	// Every key cleared, then every (block, key) applied in ledger order across keys: where
	// keys meet (the first grant of an id wins, whoever's it is), the order is the ledger's.
	const steps: { block: Block; vv: readonly number[]; key: string }[] = [];
	for (const key of keys) for (const id of filed.get(key)!) steps.push({ ...blocks.get(id)!, key });
	steps.sort((a, b) => compareOrder(orderKey(a.block), orderKey(b.block)));
	await loadPages(
		steps.map((s) => [s.block, s.vv] as const),
		contexts
	);
	for (const key of keys) keyed.clear(state, key);
	for (const { block, vv, key } of steps) keyed.applyKey(state, block, key, contexts(block, vv));
	return { keys: keys.size, blocks: steps.length, shared: 0 };
}
