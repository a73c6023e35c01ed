/** Adds `id` to the sorted `list` at its place (once): the same list whatever order ids were added in. */
export function insertSorted(list: string[], id: string): void {
	let at = list.length;
	while (at > 0 && list[at - 1]! > id) at--;
	if (list[at - 1] !== id) list.splice(at, 0, id);
}

/** The ids of `items` by the patient each names, each list sorted by id (what {@link insertSorted} keeps up). */
export function idsByPatient(items: Readonly<Record<string, { readonly patient: string }>>): Record<string, string[]> {
	const byPatient: Record<string, string[]> = {};
	for (const id of Object.keys(items).sort()) (byPatient[items[id]!.patient] ??= []).push(id);
	return byPatient;
}
