/**
 * Causal version vectors as the ledger keeps them per block: pairs `[authorIndex, seq,
 * ...]` sorted by author index (a flat array is far smaller than an object per block).
 */

/** Pointwise maximum of two pair-encoded version vectors. */
export function mergeVV(a: readonly number[], b: readonly number[]): number[] {
	const out: number[] = [];
	let i = 0;
	let j = 0;
	while (i < a.length || j < b.length) {
		if (j >= b.length || (i < a.length && a[i]! < b[j]!)) {
			out.push(a[i]!, a[i + 1]!);
			i += 2;
		} else if (i >= a.length || b[j]! < a[i]!) {
			out.push(b[j]!, b[j + 1]!);
			j += 2;
		} else {
			out.push(a[i]!, Math.max(a[i + 1]!, b[j + 1]!));
			i += 2;
			j += 2;
		}
	}
	return out;
}

/** The highest seq of the author at `index` in `vv`, -1 when it holds none. */
export function vvGet(vv: readonly number[], index: number): number {
	for (let i = 0; i < vv.length; i += 2) if (vv[i] === index) return vv[i + 1]!;
	return -1;
}
