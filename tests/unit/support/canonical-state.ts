/**
 * A fold state as text that is the same for equal states whatever order their objects'
 * keys were added in (a late block applied in place, or a checkpoint decoded, adds keys in
 * another order than folding in order does): object keys sorted, maps and sets as sorted
 * entries, byte arrays as hex.
 */
export function canonicalState(state: unknown): string {
	return JSON.stringify(state, (_key: string, value: unknown) => {
		if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
		if (value instanceof Map) return [...value].sort();
		if (value instanceof Set) return [...value].sort();
		if (value && typeof value === 'object' && !Array.isArray(value))
			return Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
		return value;
	});
}
