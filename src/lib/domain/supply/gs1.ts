/**
 * GS1 element strings, as a DataMatrix or GS1-128 scanner delivers them or as printed
 * under the barcode: the GTIN (AI 01), expiry (17), lot (10) and serial (21) a dose is
 * received and given by. Two forms are read:
 *
 * - raw: application identifiers run together, a variable-length field ended by the
 *   group separator (FNC1, U+001D) unless it is last; an optional symbology prefix
 *   (`]d2`, `]C1`, `]Q3`) or a leading FNC1 is skipped;
 * - human-readable: `(01)09506000134352(17)261231(10)A1B2(21)0042`.
 *
 * Anything else is refused with a message naming the position and the field.
 */
import { CodedError } from '$lib/core/index.js';

export const GS = '\u001d';

/** What the supply forms need from a scan; absent fields were not in the string. */
export interface Gs1Fields {
	gtin: string;
	/** ISO date `YYYY-MM-DD` (the last day the dose may be used). */
	expiry?: string;
	lot?: string;
	serial?: string;
}

/** A GS1 barcode that cannot be read (bad AI, length, check digit, date): code `GS1_INVALID`. */
export class Gs1Error extends CodedError {
	override readonly name = 'Gs1Error';
	constructor(message: string) {
		super('GS1_INVALID', message);
	}
}

interface AiSpec {
	readonly label: string;
	/** Fixed data length, or the maximum for a variable-length field. */
	readonly length: number;
	readonly fixed: boolean;
	readonly numeric: boolean;
}

/**
 * The identifiers read here. Others on medicine packs (dates, counts) are parsed so the
 * string can be walked past them, and ignored; an identifier missing from this table
 * cannot be walked past in the raw form (its length is unknown), so it is refused.
 */
const AIS: Record<string, AiSpec> = {
	'00': { label: 'SSCC', length: 18, fixed: true, numeric: true },
	'01': { label: 'GTIN', length: 14, fixed: true, numeric: true },
	'02': { label: 'contained GTIN', length: 14, fixed: true, numeric: true },
	'10': { label: 'lot', length: 20, fixed: false, numeric: false },
	'11': { label: 'production date', length: 6, fixed: true, numeric: true },
	'13': { label: 'packaging date', length: 6, fixed: true, numeric: true },
	'15': { label: 'best before date', length: 6, fixed: true, numeric: true },
	'16': { label: 'sell by date', length: 6, fixed: true, numeric: true },
	'17': { label: 'expiry', length: 6, fixed: true, numeric: true },
	'21': { label: 'serial', length: 20, fixed: false, numeric: false },
	'30': { label: 'count', length: 8, fixed: false, numeric: true },
	'37': { label: 'count of trade items', length: 8, fixed: false, numeric: true },
	'240': { label: 'additional product id', length: 30, fixed: false, numeric: false },
	'241': { label: 'customer part number', length: 30, fixed: false, numeric: false },
	'710': { label: 'national healthcare reimbursement number (DE)', length: 20, fixed: false, numeric: false },
	'711': { label: 'national healthcare reimbursement number (FR)', length: 20, fixed: false, numeric: false },
	'712': { label: 'national healthcare reimbursement number (ES)', length: 20, fixed: false, numeric: false },
	'714': { label: 'national healthcare reimbursement number (PT)', length: 20, fixed: false, numeric: false }
};

/** GS1 AI encodable character set 82, allowed in lots and serials. */
const CSET82 = /^[!"%&'()*+,\-./0-9:;<=>?A-Z_a-z]+$/;

/** True when `text` may be a lot or serial number (1-20 characters of GS1 set 82). */
export function isGs1Text(text: string, max = 20): boolean {
	return text.length >= 1 && text.length <= max && CSET82.test(text);
}

/** The mod-10 check digit of the digits before it (GS1 General Specifications 7.9). */
export function gs1CheckDigit(body: string): number {
	let sum = 0;
	for (let i = 0; i < body.length; i++) {
		// Weights 3, 1, 3 … counted from the rightmost digit of the body.
		const weight = (body.length - i) % 2 === 1 ? 3 : 1;
		sum += Number(body[i]) * weight;
	}
	return (10 - (sum % 10)) % 10;
}

/** What is wrong with a GTIN-14, or null when it is 14 digits with a correct check digit. */
export function gtinProblem(gtin: string): string | null {
	if (!/^\d+$/.test(gtin)) return 'a GTIN has digits only';
	if (gtin.length !== 14) return `a GTIN-14 has 14 digits; this one has ${gtin.length}`;
	const expected = gs1CheckDigit(gtin.slice(0, 13));
	if (Number(gtin[13]) !== expected) return `check digit is ${gtin[13]}, expected ${expected}`;
	return null;
}

/**
 * A GTIN as typed on a form (GTIN-8, -12, -13 or -14, spaces allowed), as the GTIN-14
 * the ledger keys items by; throws `Gs1Error` naming what is wrong.
 */
export function normalizeGtin(text: string): string {
	const digits = text.replace(/\s+/g, '');
	if (!/^\d+$/.test(digits)) throw new Gs1Error('GTIN: digits only (8, 12, 13 or 14 of them)');
	if (![8, 12, 13, 14].includes(digits.length)) throw new Gs1Error(`GTIN: expected 8, 12, 13 or 14 digits, got ${digits.length}`);
	const gtin = digits.padStart(14, '0');
	const problem = gtinProblem(gtin);
	if (problem) throw new Gs1Error(`GTIN: ${problem}`);
	return gtin;
}

const daysInMonth = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();

/**
 * A GS1 date YYMMDD as ISO `YYYY-MM-DD`. Day 00 means the last day of the month. The
 * century follows GS1's sliding window (7.12): a year more than 50 ahead of
 * `referenceYear` is in the previous century, more than 49 behind in the next.
 */
export function gs1Date(yymmdd: string, referenceYear: number): string {
	if (!/^\d{6}$/.test(yymmdd)) throw new Gs1Error(`date: expected YYMMDD (6 digits), got “${yymmdd}”`);
	const yy = Number(yymmdd.slice(0, 2));
	const month = Number(yymmdd.slice(2, 4));
	let day = Number(yymmdd.slice(4, 6));
	const century = Math.floor(referenceYear / 100) * 100;
	const diff = yy - (referenceYear % 100);
	const year = century + yy + (diff > 50 ? -100 : diff < -49 ? 100 : 0);
	if (month < 1 || month > 12) throw new Gs1Error(`date: month ${yymmdd.slice(2, 4)} is not 01-12`);
	const last = daysInMonth(year, month);
	if (day === 0) day = last;
	if (day > last) throw new Gs1Error(`date: day ${yymmdd.slice(4, 6)} does not exist in ${year}-${String(month).padStart(2, '0')}`);
	return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** The identifier starting at `text[at]`: the known AI whose digits match (2, 3 or 4 long). */
function aiAt(text: string, at: number): string {
	for (const n of [2, 3, 4]) {
		const candidate = text.slice(at, at + n);
		if (AIS[candidate]) return candidate;
	}
	const shown = text.slice(at, at + 4);
	if (!/^\d{2}/.test(shown)) throw new Gs1Error(`position ${at + 1}: expected an application identifier (digits), found “${shown}”`);
	throw new Gs1Error(`position ${at + 1}: application identifier “${shown.slice(0, 2)}…” is not one this app reads`);
}

function checkValue(ai: string, value: string, at: number): void {
	const spec = AIS[ai]!;
	const where = `(${ai}) ${spec.label} at position ${at + 1}`;
	if (value.length === 0) throw new Gs1Error(`${where}: empty`);
	if (spec.fixed && value.length !== spec.length) throw new Gs1Error(`${where}: expected ${spec.length} digits, got ${value.length}`);
	if (!spec.fixed && value.length > spec.length) throw new Gs1Error(`${where}: at most ${spec.length} characters, got ${value.length}`);
	if (spec.numeric && !/^\d+$/.test(value)) throw new Gs1Error(`${where}: digits only, got “${value}”`);
	if (!spec.numeric && !CSET82.test(value))
		throw new Gs1Error(`${where}: characters outside the GS1 set (letters, digits and !"%&'()*+,-./:;<=>?_)`);
}

/** Pairs of (AI, value, position) of a raw element string. */
function splitRaw(text: string): [string, string, number][] {
	const pairs: [string, string, number][] = [];
	let at = 0;
	while (at < text.length) {
		if (text[at] === GS) {
			at++; // a separator after a fixed-length field is tolerated
			continue;
		}
		const ai = aiAt(text, at);
		const spec = AIS[ai]!;
		const start = at + ai.length;
		let end: number;
		if (spec.fixed) {
			end = start + spec.length;
			if (end > text.length)
				throw new Gs1Error(`(${ai}) ${spec.label} at position ${start + 1}: expected ${spec.length} digits, got ${text.length - start}`);
		} else {
			const gs = text.indexOf(GS, start);
			end = gs === -1 ? text.length : gs;
		}
		pairs.push([ai, text.slice(start, end), start]);
		at = end;
	}
	return pairs;
}

/** Pairs of (AI, value, position) of the `(01)…(17)…` form. */
function splitReadable(text: string): [string, string, number][] {
	const pairs: [string, string, number][] = [];
	const pattern = /\((\d{2,4})\)([^(]*)/gy;
	let match: RegExpExecArray | null;
	let at = 0;
	while ((match = pattern.exec(text)) !== null) {
		const ai = match[1]!;
		if (!AIS[ai]) throw new Gs1Error(`position ${at + 1}: application identifier (${ai}) is not one this app reads`);
		pairs.push([ai, match[2]!.trim(), at + ai.length + 2]);
		at = pattern.lastIndex;
	}
	if (at !== text.length) throw new Gs1Error(`position ${at + 1}: expected “(AI)value”, found “${text.slice(at, at + 8)}”`);
	return pairs;
}

/**
 * The fields of a scanned or typed GS1 element string. Throws `Gs1Error` with a message a
 * person can act on when the string is malformed, lacks a GTIN, repeats an identifier or
 * has a wrong check digit or date.
 */
export function parseGs1(input: string, referenceYear = new Date().getUTCFullYear()): Gs1Fields {
	let text = input.replace(/[\r\n]+$/, '');
	if (text.trim() === '')
		throw new Gs1Error('Nothing to read: scan the barcode or type its text, e.g. (01)09506000134352(17)261231(10)A1B2');
	text = text.replace(/^\](d2|C1|Q3|e0)/, '');
	const readable = text.trimStart().startsWith('(');
	if (readable) text = text.trim();
	const pairs = readable ? splitReadable(text) : splitRaw(text);
	const seen = new Map<string, string>();
	for (const [ai, value, at] of pairs) {
		checkValue(ai, value, at);
		if (seen.has(ai) && seen.get(ai) !== value) throw new Gs1Error(`(${ai}) ${AIS[ai]!.label} appears twice with different values`);
		seen.set(ai, value);
	}
	const gtin = seen.get('01');
	if (gtin === undefined) throw new Gs1Error('No GTIN (01) in the string: a medicine pack code starts with (01) and 14 digits');
	const problem = gtinProblem(gtin);
	if (problem) throw new Gs1Error(`(01) GTIN: ${problem}`);
	const fields: Gs1Fields = { gtin };
	const expiry = seen.get('17');
	if (expiry !== undefined) fields.expiry = gs1Date(expiry, referenceYear);
	const lot = seen.get('10');
	if (lot !== undefined) fields.lot = lot;
	const serial = seen.get('21');
	if (serial !== undefined) fields.serial = serial;
	return fields;
}

/** The human-readable form of `fields` (expiry written back as YYMMDD). */
export function formatGs1(fields: Gs1Fields): string {
	const expiry = fields.expiry ? fields.expiry.slice(2).replaceAll('-', '') : undefined;
	return `(01)${fields.gtin}${expiry ? `(17)${expiry}` : ''}${fields.lot ? `(10)${fields.lot}` : ''}${fields.serial ? `(21)${fields.serial}` : ''}`;
}
