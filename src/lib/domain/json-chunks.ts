/**
 * A big map as JSON in pieces: one JSON string of a million-block ledger's records is over
 * V8's longest string (about 512 MiB) and cannot be made at all, so a fold's checkpoint
 * packs a map's entries as byte strings of at most {@link MAP_CHUNK} entries each.
 */
const utf8 = new TextEncoder();
const text = new TextDecoder();

/** Entries per piece: a records entry is about a kilobyte of JSON, so a piece is some MB. */
export const MAP_CHUNK = 10_000;

/** `map`'s entries as JSON byte strings of at most `size` entries each. */
export function packMap(map: Readonly<Record<string, unknown>>, size = MAP_CHUNK): Uint8Array[] {
	const entries = Object.entries(map);
	const pieces: Uint8Array[] = [];
	for (let from = 0; from < entries.length; from += size) pieces.push(utf8.encode(JSON.stringify(entries.slice(from, from + size))));
	return pieces;
}

/** The map of {@link packMap}'s pieces: fresh objects. */
export function unpackMap<T>(pieces: readonly Uint8Array[]): Record<string, T> {
	const map: Record<string, T> = {};
	for (const piece of pieces) for (const [key, value] of JSON.parse(text.decode(piece)) as [string, T][]) map[key] = value;
	return map;
}
