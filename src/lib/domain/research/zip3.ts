/**
 * Safe Harbor geography (45 CFR 164.514(b)(2)(i)(B)): of an address only the state and
 * the first three ZIP digits may remain, and those three only where the area they cover
 * holds more than 20,000 people; otherwise they become 000.
 *
 * Source of {@link RESTRICTED_ZIP3}: HHS Office for Civil Rights, "Guidance Regarding
 * Methods for De-identification of Protected Health Information in Accordance with the
 * HIPAA Privacy Rule" (26 November 2012), section 3.3 (the list of three-digit ZIP
 * codes with 20,000 or fewer people in the 2000 Census). The guidance says the list is
 * to be updated from newer census data; docs/research.md says how to update it.
 */
export const RESTRICTED_ZIP3: readonly string[] = [
	'036',
	'059',
	'063',
	'102',
	'203',
	'556',
	'692',
	'790',
	'821',
	'823',
	'830',
	'831',
	'878',
	'879',
	'884',
	'890',
	'893'
];

const restricted = new Set(RESTRICTED_ZIP3);

/** The Safe Harbor ZIP3 of a postal code: the first three digits, `000` for restricted areas, null when it is not a US ZIP. */
export function zip3Of(postalCode: string | undefined | null): string | null {
	if (typeof postalCode !== 'string') return null;
	const match = /^\s*(\d{3})\d{2}(?:-?\d{4})?\s*$/.exec(postalCode);
	if (!match) return null;
	return restricted.has(match[1]!) ? '000' : match[1]!;
}
