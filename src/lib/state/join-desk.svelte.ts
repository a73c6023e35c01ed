/**
 * Join requests on the sync links (docs/protocol.md, guest sessions): this node's own
 * request, sent to every peer that refuses it and sent again every
 * {@link JOIN_RESEND_MS} until it is a member, with the latest answer; and the requests
 * guests send this node, checked against its ledger and kept for an admin until they
 * are approved, refused or void.
 */
import type { AuthorId, Ledger, SyncSession } from '$lib/core/index.js';
import {
	decodeJoinReply,
	decodeJoinRequest,
	encodeJoinReply,
	judgeJoinRequest,
	type Invites,
	type JoinReply,
	type JoinRequest
} from '$lib/domain/invites.js';
import { short, type JoinRequestView, type LogLine } from './sync-views.js';

/** This node's own join request is sent again this often (ms) to peers that still refuse it. */
const JOIN_RESEND_MS = 15_000;

export interface JoinDeskOptions {
	/** The open ledger, or null. */
	ledger: () => Ledger | null;
	/** The sync sessions open now. */
	sessions: () => readonly SyncSession[];
	say: (text: string, tone?: LogLine['tone']) => void;
}

export class JoinDesk {
	/** Join requests from invitees, waiting for an admin (any member node hears them). */
	#requests = $state.raw<JoinRequestView[]>([]);
	get requests() {
		return this.#requests;
	}
	/** The latest answer to this node's own join request. */
	#reply = $state.raw<(JoinReply & { at: number }) | null>(null);
	get reply() {
		return this.#reply;
	}

	#options: JoinDeskOptions;
	/** This node's own join request (it holds an invite and is not a member yet). */
	#own: Uint8Array | null = null;
	#sentAt = 0;
	/** Join requests received, by requester key, with the session to answer on. */
	#received = new Map<AuthorId, { view: JoinRequestView; session: SyncSession }>();

	constructor(options: JoinDeskOptions) {
		this.#options = options;
	}

	/** True while this node holds a join request of its own. */
	get requesting(): boolean {
		return this.#own !== null;
	}

	/** Sets (or clears) this node's join request: sent to every peer that refuses this node, now and every {@link JOIN_RESEND_MS}. */
	setOwn(request: Uint8Array | null): void {
		this.#own = request;
		if (!request) {
			this.#reply = null;
			return;
		}
		this.#sendOwn();
	}

	#sendOwn(): void {
		if (!this.#own) return;
		this.#sentAt = Date.now();
		for (const s of this.#options.sessions()) if (s.state === 'refused') s.sendJoin(this.#own);
	}

	/** Sends the request again to peers that still refuse this node, once {@link JOIN_RESEND_MS} passed. */
	resendIfDue(now: number): void {
		if (this.#own && now - this.#sentAt >= JOIN_RESEND_MS) this.#sendOwn();
	}

	/** A peer refused this node: it gets the join request, when there is one. */
	onRefused(session: SyncSession): void {
		if (this.#own) session.sendJoin(this.#own);
	}

	/** A peer answered this node's join request. */
	onReply(data: Uint8Array, who: string, now: number): void {
		try {
			const reply = decodeJoinReply(data);
			this.#reply = { ...reply, at: now };
			this.#options.say(`${who} answered the join request: ${reply.message}`, reply.status === 'refused' ? 'bad' : 'info');
		} catch {
			this.#options.say(`${who} sent an unreadable answer to the join request`, 'warn');
		}
	}

	/** Checks a guest's join request against this node's ledger and answers it. */
	async onRequest(session: SyncSession, data: Uint8Array): Promise<void> {
		const ledger = this.#options.ledger();
		const say = this.#options.say;
		if (!ledger) return;
		let request: JoinRequest;
		try {
			request = await decodeJoinRequest(data, ledger.net, (sig, msg, key) => ledger.verifySignature(sig, msg, key));
		} catch (error) {
			say(`ignored a join request from ${short(session.peerAuthor)}: ${(error as Error).message}`, 'warn');
			return;
		}
		if (request.key !== session.peerAuthor) {
			say(`ignored a join request for key ${short(request.key)} sent by ${short(session.peerAuthor)}`, 'warn');
			return;
		}
		const invites = (ledger.state().invites ?? {}) as Invites;
		const judged = judgeJoinRequest(request, invites, ledger.roster(), ledger.revocations(), Date.now());
		session.sendJoinReply(encodeJoinReply({ status: judged.status, message: judged.message }));
		if (judged.status === 'refused' || !judged.invite) {
			say(`refused the join request of “${request.name}” (${short(request.key)}): ${judged.message}`, 'warn');
			return;
		}
		const known = this.#received.has(request.key);
		this.#received.set(request.key, {
			session,
			view: {
				request,
				role: judged.invite.role,
				inviteLabel: judged.invite.label,
				invite: judged.invite.token,
				receivedAt: this.#received.get(request.key)?.view.receivedAt ?? Date.now()
			}
		});
		if (!known)
			say(
				`join request from “${request.name}” (${short(request.key)}) with an invite for a ${judged.invite.role}: an admin can approve it under Members`,
				'good'
			);
		this.#publish();
	}

	/** Answers a pending request as refused (the caller withdraws the invite on the ledger). */
	refuse(key: AuthorId, message: string): void {
		const entry = this.#received.get(key);
		if (!entry) return;
		entry.session.sendJoinReply(encodeJoinReply({ status: 'refused', message }));
		this.#received.delete(key);
		this.#publish();
	}

	/** Requests whose key became a member (approved here or by another admin) or whose invite is gone are done. */
	dropAnswered(): void {
		const ledger = this.#options.ledger();
		if (!ledger || this.#received.size === 0) return;
		const roster = ledger.roster();
		const invites = (ledger.state().invites ?? {}) as Invites;
		for (const [key, { view }] of this.#received) {
			const invite = invites[view.invite];
			if (roster.has(key) || !invite || invite.revoked || (invite.usedBy && invite.usedBy !== key)) this.#received.delete(key);
		}
		this.#publish();
	}

	/** Forgets the requests received (sync stopped: their sessions are gone). */
	clear(): void {
		this.#received.clear();
		this.#requests = [];
	}

	#publish(): void {
		this.#requests = [...this.#received.values()].map((j) => j.view).sort((a, b) => a.receivedAt - b.receivedAt);
	}
}
