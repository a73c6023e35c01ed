import { CodedError } from '$lib/core/index.js';

/**
 * A research question or its parameters refused: a query spec that does not parse or
 * check, an ε, α, k or bound out of range, answers that cannot be combined, a study key
 * this node lacks. Code `RESEARCH_INPUT_INVALID`; the message names the field.
 */
export class ResearchInputError extends CodedError {
	override readonly name = 'ResearchInputError';
	constructor(message: string) {
		super('RESEARCH_INPUT_INVALID', message);
	}
}
