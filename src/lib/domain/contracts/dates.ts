/**
 * Calendar days as integers (days since 1970-01-01, UTC), the only time unit contracts
 * use. Dates come from claims and policies as `YYYY-MM-DD`; "now" is a block's time.
 */
const DAY_MS = 86_400_000;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The day number of a `YYYY-MM-DD` date, or null when it is not a real calendar date. */
export function dayOf(text: unknown): number | null {
	if (typeof text !== 'string') return null;
	const m = DATE.exec(text);
	if (!m) return null;
	const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
	const ms = Date.UTC(y, mo - 1, d);
	const back = new Date(ms);
	if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return null;
	return ms / DAY_MS;
}

/** `YYYY-MM-DD` of a day number. */
export const dateOfDay = (day: number): string => new Date(day * DAY_MS).toISOString().slice(0, 10);

/** The day a block's time (ms) falls on. */
export const dayOfTime = (ms: number): number => Math.floor(ms / DAY_MS);

/** Calendar year of a day number (benefit years run January to December). */
export const yearOfDay = (day: number): number => new Date(day * DAY_MS).getUTCFullYear();
