import { describe, expect, it } from 'vitest';
import { CORE_RULES, type Block, type Roster } from '$lib/core/index.js';
import { networkNameProblem } from '$lib/domain/network.js';
import { NOTE_MAX_CHARS, noteProblem, noteTx } from '$lib/domain/note.js';
import { summarizeTx } from '$lib/domain/tx-summary.js';

const noteRule = CORE_RULES.find((r) => r.type === 'note')!;
const coreAccepts = (text: string) =>
	noteRule.check(noteTx(text), { block: {} as Block, roster: new Map() as Roster, role: 'admin', revoked: new Set() }) === null;

describe('entries', () => {
	it('refuses empty and blank text with a message', () => {
		expect(noteProblem('')).toMatch(/empty/);
		expect(noteProblem(' \n\t ')).toMatch(/empty/);
	});

	it('accepts up to the limit, refuses beyond it, as the core rule does', () => {
		const atLimit = 'a'.repeat(NOTE_MAX_CHARS);
		expect(noteProblem(atLimit)).toBeNull();
		expect(coreAccepts(atLimit)).toBe(true);
		const over = 'a'.repeat(NOTE_MAX_CHARS + 1);
		expect(noteProblem(over)).toMatch(/10,001 characters long; the limit is 10,000/);
		expect(coreAccepts(over)).toBe(false);
	});

	it('drops surrounding whitespace only', () => {
		expect(noteTx('  two\nlines \n')).toEqual({ t: 'note', text: 'two\nlines' });
	});
});

describe('network names', () => {
	it('needs 1-200 characters', () => {
		expect(networkNameProblem('  ')).toMatch(/clinic name/);
		expect(networkNameProblem('Riverside Clinic')).toBeNull();
		expect(networkNameProblem('x'.repeat(201))).toMatch(/limit is 200/);
	});
});

describe('summarizeTx', () => {
	it('describes each core type and names unknown ones', () => {
		expect(summarizeTx({ t: 'genesis', name: 'Riverside' }).text).toBe('Network founded: Riverside');
		expect(summarizeTx({ t: 'note', text: 'hello' })).toEqual({ type: 'note', text: 'hello' });
		expect(summarizeTx({ t: 'member.add', key: new Uint8Array(32).fill(0xab), role: 'nurse', name: 'Ward B' }).text).toBe(
			'Member added: Ward B (abababab) as nurse'
		);
		expect(summarizeTx({ t: 'member.revoke', key: new Uint8Array(32).fill(1) }).text).toBe('Member revoked: 01010101');
		expect(summarizeTx({ t: 'example.unknown' }).text).toBe('Transaction of type example.unknown');
		expect(summarizeTx({ t: 'attachment', name: 'scan.pdf', mime: 'application/pdf', data: new Uint8Array(1_500_000) }).text).toBe(
			'File attached: scan.pdf (1.5 MB, application/pdf)'
		);
	});
});
