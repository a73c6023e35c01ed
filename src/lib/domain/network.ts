/**
 * A clinic network: founded by one clinic, named after it. The name travels in the
 * genesis block, so it is checked against the same limits the core rule applies.
 */

/** Longest network name, as the core's genesis rule allows. */
export const NETWORK_NAME_MAX_CHARS = 200;

/** What is wrong with `name` as a network name, or null when it can be used. */
export function networkNameProblem(name: string): string | null {
	const trimmed = name.trim();
	if (trimmed.length === 0) return 'Enter the clinic name: it becomes the name of the network.';
	if (trimmed.length > NETWORK_NAME_MAX_CHARS)
		return `The name is ${trimmed.length} characters long; the limit is ${NETWORK_NAME_MAX_CHARS}.`;
	return null;
}
