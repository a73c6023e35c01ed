/**
 * Well-formed UTF-8 (Unicode §3.9, table 3-7): the byte sequences a fatal `TextDecoder`
 * accepts. Checking them in place lets the codec validate text it does not build, so a
 * scan over millions of tiny texts allocates nothing.
 */

/**
 * True when `bytes[start, end)` is well-formed UTF-8: no overlong forms, no surrogates
 * (U+D800–U+DFFF), nothing above U+10FFFF, no truncated sequence.
 */
export function isWellFormedUtf8(bytes: Uint8Array, start: number, end: number): boolean {
	let i = start;
	while (i < end) {
		const lead = bytes[i]!;
		if (lead < 0x80) {
			i++;
			continue;
		}
		// The allowed range of the second byte depends on the lead (it excludes overlongs,
		// surrogates and code points past U+10FFFF); later bytes are always 80–BF.
		let tail: number;
		let low = 0x80;
		let high = 0xbf;
		if (lead >= 0xc2 && lead <= 0xdf) tail = 1;
		else if (lead >= 0xe0 && lead <= 0xef) {
			tail = 2;
			if (lead === 0xe0) low = 0xa0;
			else if (lead === 0xed) high = 0x9f;
		} else if (lead >= 0xf0 && lead <= 0xf4) {
			tail = 3;
			if (lead === 0xf0) low = 0x90;
			else if (lead === 0xf4) high = 0x8f;
		} else return false;
		if (i + tail >= end) return false;
		const second = bytes[i + 1]!;
		if (second < low || second > high) return false;
		for (let k = 2; k <= tail; k++) {
			const next = bytes[i + k]!;
			if (next < 0x80 || next > 0xbf) return false;
		}
		i += tail + 1;
	}
	return true;
}
