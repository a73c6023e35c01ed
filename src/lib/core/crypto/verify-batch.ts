/**
 * A chunk of signature checks as one buffer, for the trip to a verification worker:
 * cloning an array of objects holding three small arrays each cost the page 0.15 ms per
 * 64 checks, and as much again in the worker (docs/benchmarks.md). Lengths are kept per
 * field: a malformed signature or key (wrong length) travels as it is and is answered
 * false by the worker's strict verifier, as on the page.
 */
export interface VerifyItem {
	readonly signature: Uint8Array;
	readonly message: Uint8Array;
	readonly publicKey: Uint8Array;
}

/** `bytes`: every item's signature, message and public key end to end; `lengths`: the three lengths per item. */
export interface PackedVerifyItems {
	readonly bytes: Uint8Array<ArrayBuffer>;
	readonly lengths: Uint32Array<ArrayBuffer>;
}

export function packVerifyItems(items: readonly VerifyItem[]): PackedVerifyItems {
	let total = 0;
	for (const i of items) total += i.signature.length + i.message.length + i.publicKey.length;
	const bytes = new Uint8Array(total);
	const lengths = new Uint32Array(items.length * 3);
	let at = 0;
	items.forEach((item, n) => {
		[item.signature, item.message, item.publicKey].forEach((field, f) => {
			bytes.set(field, at);
			at += field.length;
			lengths[n * 3 + f] = field.length;
		});
	});
	return { bytes, lengths };
}

/** The items of a packed chunk, as views into its buffer. */
export function unpackVerifyItems({ bytes, lengths }: PackedVerifyItems): VerifyItem[] {
	const items: VerifyItem[] = [];
	let at = 0;
	const take = (length: number) => bytes.subarray(at, (at += length));
	for (let n = 0; n < lengths.length; n += 3) {
		const signature = take(lengths[n]!);
		const message = take(lengths[n + 1]!);
		items.push({ signature, message, publicKey: take(lengths[n + 2]!) });
	}
	return items;
}
