/**
 * Key cards owed to imported patients. An import makes a key for each new patient; the
 * key is kept on this node only (wrapped under this node's own key, in the store's meta)
 * until the patient comes in, chooses a PIN and gets their card, and is then forgotten.
 */
import { CodedError, type Ledger } from '$lib/core/index.js';
import type { ScryptParams } from '../keystore.js';
import type { WrappedKey } from '../privacy/envelope.js';
import type { RecordBook } from './book.js';
import { encodeCard } from './card.js';

const PENDING_CARDS_META = 'pending-cards';

export type CardRefusalCode = 'PIN_MISMATCH' | 'CARD_NOT_KEPT';

/** A card not made, before any key was opened. */
export class CardRefusal extends CodedError {
	override readonly name = 'CardRefusal';
	declare readonly code: CardRefusalCode;
	constructor(code: CardRefusalCode, message: string) {
		super(code, message);
	}
}

const keptOf = async (ledger: Ledger) => (await ledger.store.getMeta<Record<string, WrappedKey>>(PENDING_CARDS_META)) ?? {};

/** Patients whose key this node keeps until their card is printed; none when the store cannot say. */
export async function pendingCards(ledger: Ledger): Promise<string[]> {
	return Object.keys(await keptOf(ledger).catch(() => ({})));
}

/** Keeps each patient's key for this node; returns every patient now waiting for a card. */
export async function keepPendingCards(book: RecordBook, keys: readonly { patient: string; seed: Uint8Array }[]): Promise<string[]> {
	const ledger = book.ledger;
	const kept = await keptOf(ledger);
	for (const { patient, seed } of keys) kept[patient] = book.keyring.wrapForSelf(ledger.net, patient, seed);
	await ledger.store.putMeta(PENDING_CARDS_META, kept);
	return Object.keys(kept);
}

/**
 * Makes the key card of an imported patient, encrypted under `pin`, and forgets the kept
 * key. Throws {@link CardRefusal} (`PIN_MISMATCH`, `CARD_NOT_KEPT`: printed already) or
 * what opening the key or encrypting the card raised; the key is kept unless a card was made.
 */
export async function printPendingCard(
	book: RecordBook,
	patient: string,
	pin: string,
	pinAgain: string,
	options: { cardParams?: ScryptParams } = {}
): Promise<{ code: string; pendingCards: string[] }> {
	if (pin !== pinAgain) throw new CardRefusal('PIN_MISMATCH', 'The two PINs differ.');
	const ledger = book.ledger;
	const kept = await keptOf(ledger);
	const wrap = kept[patient];
	if (!wrap) throw new CardRefusal('CARD_NOT_KEPT', 'This patient’s key is not kept here: their card was printed already.');
	let seed: Uint8Array | null = null;
	try {
		seed = book.keyring.unwrapForSelf(ledger.net, patient, wrap);
		const code = await encodeCard(seed, pin, options.cardParams ? { params: options.cardParams } : {});
		delete kept[patient];
		await ledger.store.putMeta(PENDING_CARDS_META, kept);
		return { code, pendingCards: Object.keys(kept) };
	} finally {
		seed?.fill(0);
	}
}
