/** Adds `id` to the sorted `list` at its place (once): the same list whatever order ids were added in. */
export function insertSorted(list: string[], id: string): void {
	let at = list.length;
	while (at > 0 && list[at - 1]! > id) at--;
	if (list[at - 1] !== id) list.splice(at, 0, id);
}
