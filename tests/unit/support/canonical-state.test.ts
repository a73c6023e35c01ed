// The helpers the fold properties compare states with (support/canonical-state.ts): equal
// states give the same text whatever order their keys, map entries and set items were
// added in; `sameState` says "same" for such copies, never says "same" where the texts
// differ, and says "different" for any one change deep inside.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalState, sameState } from './canonical-state.js';

const leaf = fc.oneof(
	fc.string({ maxLength: 6 }),
	fc.integer({ min: -1000, max: 1000 }),
	fc.boolean(),
	fc.constant(null),
	fc.constant(undefined),
	fc.uint8Array({ maxLength: 4 })
);
const { value } = fc.letrec((tie) => ({
	value: fc.oneof({ depthSize: 'small' }, leaf, tie('array'), tie('object'), tie('map'), tie('set')),
	array: fc.array(tie('value'), { maxLength: 4 }),
	object: fc.dictionary(fc.string({ maxLength: 3 }), tie('value'), { maxKeys: 4 }),
	map: fc.array(fc.tuple(fc.string({ maxLength: 3 }), tie('value')), { maxLength: 4 }).map((entries) => new Map(entries)),
	set: fc
		.uniqueArray(fc.oneof(fc.string({ maxLength: 3 }), fc.integer({ min: 0, max: 9 })), { maxLength: 4 })
		.map((items) => new Set(items))
}));

/** A deep copy with every object's keys, map's entries and set's items added in reverse order. */
function reordered(v: unknown): unknown {
	if (v instanceof Uint8Array) return new Uint8Array(v);
	if (Array.isArray(v)) return v.map(reordered);
	if (v instanceof Map) return new Map([...v].reverse().map(([k, x]) => [k, reordered(x)]));
	if (v instanceof Set) return new Set([...v].reverse());
	if (v && typeof v === 'object')
		return Object.fromEntries(
			Object.entries(v)
				.reverse()
				.map(([k, x]) => [k, reordered(x)])
		);
	return v;
}

/** Every container and leaf inside `v`, with a setter that replaces it in its parent. */
function places(v: unknown, set: (x: unknown) => void, out: { value: unknown; set: (x: unknown) => void }[] = []) {
	out.push({ value: v, set });
	if (Array.isArray(v)) v.forEach((x, i) => places(x, (y) => (v[i] = y), out));
	else if (v instanceof Map) for (const [k, x] of v) places(x, (y) => v.set(k, y), out);
	else if (v && typeof v === 'object' && !(v instanceof Uint8Array) && !(v instanceof Set))
		for (const [k, x] of Object.entries(v)) places(x, (y) => ((v as Record<string, unknown>)[k] = y), out);
	return out;
}

describe('canonical state', () => {
	it('the same state in any insertion order: the same text, and sameState', () => {
		fc.assert(
			fc.property(value, (v) => {
				const w = reordered(v);
				expect(canonicalState(w)).toBe(canonicalState(v));
				expect(sameState(v, w)).toBe(true);
			}),
			{ numRuns: 300 }
		);
	});

	it('sameState never says "same" where the texts differ, and sees one change anywhere inside', () => {
		fc.assert(
			fc.property(value, value, fc.nat(), (a, b, pick) => {
				if (sameState(a, b)) expect(canonicalState(a)).toBe(canonicalState(b));
				const changed = reordered(a);
				const root = { v: changed };
				const all = places(changed, (y) => (root.v = y));
				const place = all[pick % all.length]!;
				if (place.value instanceof Uint8Array && place.value.length > 0) {
					const bytes = new Uint8Array(place.value);
					bytes[pick % bytes.length]! ^= 1;
					place.set(bytes);
				} else place.set({ changed: place.value === undefined ? 1 : [place.value] });
				expect(canonicalState(root.v)).not.toBe(canonicalState(a));
				expect(sameState(a, root.v)).toBe(false);
			}),
			{ numRuns: 300 }
		);
	});

	it('follows toJSON like JSON does, and leaves out undefined properties', () => {
		const paged = (n: number) => ({ toJSON: () => ({ n }) });
		expect(sameState({ p: paged(1), gone: undefined }, { p: paged(1) })).toBe(true);
		expect(canonicalState({ p: paged(1), gone: undefined })).toBe('{"p":{"n":1}}');
		expect(sameState({ p: paged(1) }, { p: paged(2) })).toBe(false);
	});
});
