/** Free-text ledger entries: one signed block each, shown once durable. */
import { describeError, type BlockId } from '$lib/core/index.js';
import { noteProblem, noteTx } from '$lib/domain/note.js';
import type { NodeContext } from './node-types.js';

export class EntryManager {
	#appending = $state(false);
	get appending() {
		return this.#appending;
	}
	#error = $state<string | null>(null);
	get error() {
		return this.#error;
	}
	/** The last block this node appended, once it is durable and shown. */
	#lastAppended = $state.raw<{ id: BlockId; seq: number } | null>(null);
	get lastAppended() {
		return this.#lastAppended;
	}

	readonly #node: NodeContext;

	constructor(node: NodeContext) {
		this.#node = node;
	}

	/**
	 * Appends a free-text entry as one signed block. Resolves true once the block is
	 * durable in IndexedDB and shown; false with {@link error} set when the text is
	 * refused or the write fails (then nothing was stored).
	 */
	async addEntry(text: string): Promise<boolean> {
		const problem = noteProblem(text);
		this.#error = problem;
		if (problem) return false;
		const ledger = this.#node.ledger;
		if (!ledger) {
			this.#error = 'Create or join a network before adding entries.';
			return false;
		}
		this.#appending = true;
		try {
			const block = await ledger.append([noteTx(text)]);
			await this.#node.settled();
			this.#lastAppended = { id: block.id, seq: block.seq };
			return true;
		} catch (error) {
			this.#error = `The entry was not added: ${describeError(error)}`;
			return false;
		} finally {
			this.#appending = false;
		}
	}
}
