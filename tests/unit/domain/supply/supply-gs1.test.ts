import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GS, Gs1Error, formatGs1, gs1CheckDigit, gs1Date, gtinProblem, normalizeGtin, parseGs1 } from '$lib/domain/supply/gs1.js';

// A published example GTIN (GS1's 09506000134352) and a made-up pack of it.
const GTIN = '09506000134352';
const parse = (text: string) => parseGs1(text, 2026);

describe('GS1 element strings: valid ones', () => {
	it('reads the raw form with FNC1 separators, a symbology prefix and a leading FNC1', () => {
		const raw = `01${GTIN}17271231` + `10A1B2-C${GS}21SN0042`;
		const expected = { gtin: GTIN, expiry: '2027-12-31', lot: 'A1B2-C', serial: 'SN0042' };
		expect(parse(raw)).toEqual(expected);
		expect(parse(`]d2${raw}`)).toEqual(expected);
		expect(parse(`${GS}${raw}`)).toEqual(expected);
		// Variable-length field last: no separator needed; order of identifiers does not matter.
		expect(parse(`21SN0042${GS}10A1B2-C${GS}01${GTIN}17271231`)).toEqual(expected);
	});

	it('reads the human-readable form', () => {
		expect(parse(`(01)${GTIN}(17)270630(10)LOT/7(21)X1`)).toEqual({ gtin: GTIN, expiry: '2027-06-30', lot: 'LOT/7', serial: 'X1' });
		expect(parse(`(01)${GTIN}`)).toEqual({ gtin: GTIN });
	});

	it('day 00 is the last day of the month (leap years too)', () => {
		expect(parse(`(01)${GTIN}(17)280200`).expiry).toBe('2028-02-29');
		expect(parse(`(01)${GTIN}(17)270200`).expiry).toBe('2027-02-28');
		expect(parse(`(01)${GTIN}(17)261100`).expiry).toBe('2026-11-30');
	});

	it('places two-digit years by GS1’s sliding window', () => {
		expect(gs1Date('760101', 2026)).toBe('2076-01-01'); // 50 ahead: this century
		expect(gs1Date('770101', 2026)).toBe('1977-01-01'); // 51 ahead: the previous one
		expect(gs1Date('990101', 2050)).toBe('2099-01-01');
		expect(gs1Date('010101', 2099)).toBe('2101-01-01'); // more than 49 behind: the next one
	});

	it('skips other identifiers found on medicine packs', () => {
		expect(parse(`01${GTIN}11250101172612311 0AB`.replace(' ', ''))).toEqual({ gtin: GTIN, expiry: '2026-12-31', lot: 'AB' });
		expect(parse(`(01)${GTIN}(30)12(10)L1(240)REF-9`)).toEqual({ gtin: GTIN, lot: 'L1' });
	});

	it('GTIN check digits: published GTINs pass, short ones are padded, any changed digit is caught', () => {
		expect(gtinProblem(GTIN)).toBeNull();
		expect(normalizeGtin('4006381333931')).toBe('04006381333931'); // a GTIN-13 from GS1's examples
		expect(normalizeGtin('9638 5074')).toBe('00000096385074'); // GTIN-8
		fc.assert(
			fc.property(fc.stringMatching(/^\d{13}$/), fc.integer({ min: 1, max: 9 }), fc.nat(13), (body, change, at) => {
				const gtin = body + gs1CheckDigit(body);
				expect(gtinProblem(gtin)).toBeNull();
				const altered = gtin.slice(0, at) + ((Number(gtin[at]) + change) % 10) + gtin.slice(at + 1);
				expect(gtinProblem(altered)).toMatch(/check digit/);
			})
		);
	});

	it('any valid set of fields survives formatting and parsing, in both forms', () => {
		const cset = fc.constantFrom(...'ABCXYZabc0123456789-./_'.split(''));
		fc.assert(
			fc.property(
				fc.stringMatching(/^\d{13}$/),
				fc.option(fc.date({ min: new Date('2001-01-01'), max: new Date('2075-12-31'), noInvalidDate: true })),
				fc.option(fc.string({ unit: cset, minLength: 1, maxLength: 20 })),
				fc.option(fc.string({ unit: cset, minLength: 1, maxLength: 20 })),
				(body, date, lot, serial) => {
					const fields = {
						gtin: body + gs1CheckDigit(body),
						...(date ? { expiry: date.toISOString().slice(0, 10) } : {}),
						...(lot ? { lot } : {}),
						...(serial ? { serial } : {})
					};
					expect(parse(formatGs1(fields))).toEqual(fields);
					const raw = `01${fields.gtin}${date ? `17${formatGs1(fields).match(/\(17\)(\d{6})/)![1]}` : ''}${lot ? `10${lot}${GS}` : ''}${serial ? `21${serial}` : ''}`;
					expect(parse(raw)).toEqual(fields);
				}
			)
		);
	});
});

describe('GS1 element strings: malformed ones are refused with a clear message', () => {
	const cases: [string, RegExp][] = [
		['', /Nothing to read/],
		[`(10)LOT1(17)271231`, /No GTIN \(01\)/],
		[`01${GTIN.slice(0, 13)}3`, /\(01\) GTIN: check digit is 3, expected 2/],
		[`010950600013`, /\(01\) GTIN at position 3: expected 14 digits, got 10/],
		[`01${GTIN}17271331`, /month 13 is not 01-12/],
		[`01${GTIN}17270230`, /day 30 does not exist in 2027-02/],
		[`01${GTIN}1727123`, /\(17\) expiry at position 19: expected 6 digits, got 5/],
		[`01${GTIN}10${'L'.repeat(21)}`, /\(10\) lot at position 19: at most 20 characters, got 21/],
		[`01${GTIN}10LOT 1`, /\(10\) lot .*characters outside the GS1 set/],
		[`01${GTIN}10${GS}21S1`, /\(10\) lot .*: empty/],
		[`01${GTIN}99ABC`, /position 17: application identifier “99…” is not one this app reads/],
		[`01${GTIN}XY`, /position 17: expected an application identifier/],
		[`(01)${GTIN}(99)X`, /\(99\) is not one this app reads/],
		[`(01)${GTIN}garbage`.replace(`(01)${GTIN}`, `(01)${GTIN}(10)A`) + '(', /position \d+: expected “\(AI\)value”/],
		[`(01)${GTIN}(10)A(10)B`, /\(10\) lot appears twice with different values/],
		[`(01)${GTIN}(17)27123X`, /\(17\) expiry .*: digits only/]
	];
	for (const [text, message] of cases) {
		it(`refuses ${JSON.stringify(text)}`, () => {
			expect(() => parse(text)).toThrow(Gs1Error);
			expect(() => parse(text)).toThrow(message);
		});
	}

	it('a typed GTIN names what is wrong', () => {
		expect(() => normalizeGtin('12345')).toThrow(/expected 8, 12, 13 or 14 digits, got 5/);
		expect(() => normalizeGtin('0950600013435X')).toThrow(/digits only/);
		expect(() => normalizeGtin('09506000134353')).toThrow(/check digit is 3, expected 2/);
	});
});
