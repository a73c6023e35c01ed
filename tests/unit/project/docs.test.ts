import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { createBlock, createGenesis, toHex } from '../../../src/lib/core/index.js';
import { fixedNow, testSigner } from '../../../src/lib/core/testing/fixtures.js';

it('docs/block-format.md shows the exact bytes the code produces', async () => {
	const doc = readFileSync('docs/block-format.md', 'utf8');
	const documented = /<!-- example-block -->\s*```\s*([0-9a-f]+)\s*```/.exec(doc)?.[1];
	const signer = testSigner('founder');
	const genesis = await createGenesis(signer, { name: 'Example Clinic', time: fixedNow() });
	const block = await createBlock(signer, {
		net: genesis.id,
		seq: 1,
		prev: genesis.id,
		deps: [],
		clock: 1,
		time: fixedNow() + 1000,
		txs: [{ t: 'note', text: 'hello' }]
	});
	expect(doc).toContain(`Genesis id (network id): \`${genesis.id}\``);
	expect(documented).toBe(toHex(block.bytes));
	expect(doc).toContain(`Wire block (${block.bytes.length} bytes)`);
});
