// The exported Bundle file across its pieces: written a thousand entries to a Blob, the
// text is the Bundle (its fields indented, one compact entry a line, commas between
// entries and none after the last) whatever the number of entries, at and around the
// piece size.
import { describe, expect, it } from 'vitest';
import type { RecordBook, RecordView } from '$lib/domain/records/book.js';
import { exportBundle, exportBundleFile } from '$lib/domain/records/bundle-export.js';

const PATIENT = 'aa'.repeat(32);
const NOW = Date.UTC(2026, 11, 4);
/** The export reads nothing of the book when given the chart's records. */
const book = {} as RecordBook;

function records(n: number): RecordView[] {
	return Array.from({ length: n }, (_, i) => {
		const rid = i.toString(16).padStart(32, '0');
		const block = (i >> 3).toString(16).padStart(64, '0');
		const resource = {
			resourceType: 'Observation',
			status: 'final',
			code: { text: `reading ${i}` },
			subject: { reference: `Patient/${PATIENT}` },
			valueQuantity: { value: i, unit: 'mmHg' }
		};
		return {
			rid,
			patient: PATIENT,
			category: 'labs',
			versions: [
				{
					block,
					clock: i,
					index: i & 7,
					author: 'bb'.repeat(32),
					time: NOW - i,
					kid: '',
					epoch: 0,
					prev: null,
					size: 0,
					resource,
					sealed: null
				}
			],
			setAside: []
		} as unknown as RecordView;
	});
}

describe('exportBundleFile', () => {
	for (const n of [0, 1, 999, 1000, 1001, 2500]) {
		it(`writes ${n} records as the Bundle exportBundle makes, one entry a line`, async () => {
			const options = { now: NOW, records: records(n) };
			const { bundle } = await exportBundle(book, PATIENT, options);
			const { file } = await exportBundleFile(book, PATIENT, options);
			const text = await file.text();
			expect(JSON.parse(text)).toEqual(bundle);
			const entries = bundle.entry!;
			const lines = text.split('\n');
			if (entries.length === 0) {
				expect(text.endsWith('"entry": []\n}')).toBe(true);
				return;
			}
			expect(lines.slice(-2)).toEqual(['  ]', '}']);
			expect(lines.slice(5, -2)).toEqual(entries.map((e, i) => `    ${JSON.stringify(e)}${i < entries.length - 1 ? ',' : ''}`));
		});
	}
});
