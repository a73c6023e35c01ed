import { expect, it } from 'vitest';
import { EXPECTED_OUTCOME_DIGEST, outcomeDigest } from '../../../contracts-digest.js';

it('claims outcomes in Node match the digest the Chromium test checks', () => {
	const digest = outcomeDigest();
	console.log(`claims outcome digest (Node): ${digest}`);
	expect(digest).toBe(EXPECTED_OUTCOME_DIGEST);
	expect(outcomeDigest()).toBe(digest);
}, 60_000);
