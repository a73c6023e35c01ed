import { expect, it } from 'vitest';
import { EXPECTED_OUTCOME_DIGEST, outcomeDigest } from '../contracts-digest.js';

it('claims outcomes in Chromium are identical to those in Node (same blocks, same digest)', () => {
	expect(navigator.userAgent).toMatch(/Chrome/);
	expect(outcomeDigest()).toBe(EXPECTED_OUTCOME_DIGEST);
}, 60_000);
