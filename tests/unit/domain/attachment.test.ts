import { describe, expect, it } from 'vitest';
import { MAX_BLOCK_BYTES } from '../../../src/lib/core/index.js';
import { MAX_ATTACHMENT_BYTES, attachmentTx } from '../../../src/lib/domain/attachment.js';
import { APP_RULES } from '../../../src/lib/domain/rule-registry.js';
import { foundNetwork, joinNetwork, syncInto } from '../../../src/lib/core/testing/fixtures.js';

describe('attachments', () => {
	it('a 5 MB file fits in one block and travels to another node', async () => {
		const a = await foundNetwork({ members: { b: 'clinician' }, rules: APP_RULES });
		const data = new Uint8Array(MAX_ATTACHMENT_BYTES).map((_, i) => i % 251);
		const tx = attachmentTx('scan.pdf', 'application/pdf', data);
		expect(typeof tx).toBe('object');
		const block = await a.append([tx as Exclude<typeof tx, string>]);
		expect(block.bytes.length).toBeLessThan(MAX_BLOCK_BYTES);
		const b = await joinNetwork(a.net, 'b', { rules: APP_RULES });
		expect((await syncInto(b, a)).rejected).toEqual([]);
		expect((await b.store.get(block.id))?.bytes.length).toBe(block.bytes.length);
	});

	it('refuses oversize, empty or mislabelled files with a reason', () => {
		expect(attachmentTx('x', 'application/pdf', new Uint8Array(MAX_ATTACHMENT_BYTES + 1))).toMatch(/larger than/);
		expect(attachmentTx('x', 'application/pdf', new Uint8Array())).toMatch(/file bytes/);
		expect(attachmentTx('', 'application/pdf', new Uint8Array(1))).toMatch(/name/);
		expect(attachmentTx('x', 'not a type', new Uint8Array(1))).toMatch(/mime/);
	});
});
