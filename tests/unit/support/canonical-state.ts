/**
 * A fold state as text that is the same for equal states whatever order their objects'
 * keys were added in (a late block applied in place, or a checkpoint decoded, adds keys in
 * another order than folding in order does): object keys sorted, maps and sets as sorted
 * entries, byte arrays as hex. JSON otherwise (`undefined` properties left out, `toJSON`
 * used), written in one pass: the property tests compare a state after every batch, and a
 * `JSON.stringify` replacer that rebuilt every object with sorted keys was a third of
 * their time.
 */
export function canonicalState(state: unknown): string {
	return text(state) ?? 'null';
}

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The canonical text of `value`; undefined where JSON leaves a property out. */
function text(value: unknown): string | undefined {
	switch (typeof value) {
		case 'string':
			return JSON.stringify(value);
		case 'number':
			return Number.isFinite(value) ? String(value) : 'null';
		case 'boolean':
			return value ? 'true' : 'false';
		case 'bigint':
			throw new TypeError('canonicalState: a bigint has no JSON form');
		case 'undefined':
		case 'function':
		case 'symbol':
			return undefined;
	}
	if (value === null) return 'null';
	if (value instanceof Uint8Array) return `"${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')}"`;
	if (Array.isArray(value)) return `[${value.map((item) => text(item) ?? 'null').join(',')}]`;
	if (value instanceof Map)
		return `[${[...value]
			.map(([k, v]) => `[${text(k) ?? 'null'},${text(v) ?? 'null'}]`)
			.sort(byText)
			.join(',')}]`;
	if (value instanceof Set)
		return `[${[...value]
			.map((item) => text(item) ?? 'null')
			.sort(byText)
			.join(',')}]`;
	const object = value as Record<string, unknown> & { toJSON?: () => unknown };
	if (typeof object.toJSON === 'function') return text(object.toJSON());
	const parts: string[] = [];
	for (const key of Object.keys(object).sort(byText)) {
		const item = text(object[key]);
		if (item !== undefined) parts.push(`${JSON.stringify(key)}:${item}`);
	}
	return `{${parts.join(',')}}`;
}

/**
 * Whether `a` and `b` have the same {@link canonicalState}, compared in place: no text is
 * made (a claims state after every batch is about 400 KB of it). Stricter where the text
 * would blur (NaN, or a Map keyed by objects, compare as not the same): callers then
 * compare the texts, which also gives a readable difference.
 */
export function sameState(a: unknown, b: unknown): boolean {
	if (a === b) return true;
	if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
	if (a instanceof Uint8Array || b instanceof Uint8Array) {
		if (!(a instanceof Uint8Array && b instanceof Uint8Array) || a.length !== b.length) return false;
		for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
		return true;
	}
	if (Array.isArray(a) || Array.isArray(b)) {
		if (!(Array.isArray(a) && Array.isArray(b)) || a.length !== b.length) return false;
		for (let i = 0; i < a.length; i++) if (!sameState(a[i], b[i])) return false;
		return true;
	}
	if (a instanceof Map || b instanceof Map) {
		if (!(a instanceof Map && b instanceof Map) || a.size !== b.size) return false;
		for (const [key, value] of a) if (!b.has(key) || !sameState(value, b.get(key))) return false;
		return true;
	}
	if (a instanceof Set || b instanceof Set) {
		if (!(a instanceof Set && b instanceof Set) || a.size !== b.size) return false;
		for (const item of a) if (!b.has(item)) return false;
		return true;
	}
	const [x, y] = [a as Record<string, unknown> & { toJSON?: () => unknown }, b as Record<string, unknown> & { toJSON?: () => unknown }];
	if (typeof x.toJSON === 'function' || typeof y.toJSON === 'function')
		return typeof x.toJSON === 'function' && typeof y.toJSON === 'function' && sameState(x.toJSON(), y.toJSON());
	// The properties JSON keeps: not undefined, functions or symbols.
	const present = (o: Record<string, unknown>) => Object.keys(o).filter((k) => !['undefined', 'function', 'symbol'].includes(typeof o[k]));
	const keys = present(x);
	if (keys.length !== present(y).length) return false;
	for (const key of keys) if (!Object.hasOwn(y, key) || !sameState(x[key], y[key])) return false;
	return true;
}
