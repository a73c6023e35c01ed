/**
 * A membership use case refused before anything was written: the input is not usable, or
 * this node may not do it. The message is a sentence for the person; callers branch on the
 * code.
 */
import { CodedError } from '$lib/core/index.js';

export type MembershipRefusalCode =
	| 'NETWORK_INPUT_INVALID'
	| 'MEMBER_INPUT_INVALID'
	| 'INVITE_INPUT_INVALID'
	| 'ALREADY_MEMBER'
	| 'NOT_AN_ADMIN'
	| 'NO_SYNC_SETTINGS'
	| 'UNKNOWN_INVITE'
	| 'UNKNOWN_CLINIC';

export class MembershipRefusal extends CodedError {
	override readonly name = 'MembershipRefusal';
	declare readonly code: MembershipRefusalCode;
	constructor(code: MembershipRefusalCode, message: string) {
		super(code, message);
	}
}
