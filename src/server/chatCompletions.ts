import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import { FlowregError, isFlowregError } from '../errors/index.ts';
import type { RuntimeFlowStatus, RuntimeRouter, RuntimeTarget } from '../runtime/types.ts';
import type { FlowServiceApi } from '../service/FlowServiceApi.ts';
import { chatStreamError, describeRefusals, type RuntimeProxy } from './runtimeProxy.ts';

const MODES = ['chat_normal', 'chat_flow', 'chat_app', 'chat_knowledge', 'chat_data', 'chat_excel', 'chat_dashboard', 'chat_agent'];

/** The states of a flow that the runtimes run (docs/runtimes.md); a flow in another state is live nowhere. */
const RUN_STATES = new Set(['deployed', 'running']);

/** What the chat routes need: the flows, and the runtimes chat is forwarded to (null: none configured). */
export interface ChatContext {
  service: FlowServiceApi;
  runtimes: RuntimeRouter | null;
  proxy: RuntimeProxy | null;
}

/** The runtimes and the proxy, when at least one runtime is configured. */
function gatewayOf(ctx: ChatContext): { runtimes: RuntimeRouter; proxy: RuntimeProxy } | null {
  return ctx.runtimes !== null && ctx.proxy !== null && ctx.runtimes.targets.length > 0 ? { runtimes: ctx.runtimes, proxy: ctx.proxy } : null;
}

/** How one chat route answers an error: HTTP status (when not streamed) and message. */
type Fail = (status: number, message: string) => void;

/**
 * `POST /api/v2/chat/completions` (docs/api.md). Without a runtime, flowreg answers as DB-GPT does
 * for a flow that is not deployed — non-streaming: HTTP 400 `ErrorResponse`
 * `{"object":"error","message":…,"code":1}`; streaming: HTTP 200 SSE with the role chunk, the
 * error object and `data: [DONE]`, the framing `dbgpt_client.chat_stream` parses. With runtimes,
 * a `chat_flow` chat goes to a runtime the flow is live on (the next one when it refuses), and
 * other chat modes to the first runtime that answers; when none can, the same error shapes say
 * why. Request validation errors keep DB-GPT's envelope (400 E0001).
 */
export async function chatCompletions(ctx: ChatContext, req: Request, res: Response): Promise<void> {
  const body: unknown = req.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new FlowregError('INVALID_INPUT', 'the body must be a JSON object (ChatCompletionRequestBody)', { loc: 'body' });
  }
  const b = body as Record<string, unknown>;
  const missing = ['model', 'messages'].filter((k) => b[k] === undefined || b[k] === null);
  if (missing.length > 0) throw new FlowregError('INVALID_INPUT', 'Field required', { loc: `body.${missing[0]}` });
  if (typeof b.model !== 'string') throw new FlowregError('INVALID_INPUT', 'Input should be a valid string', { loc: 'body.model' });
  const mode = b.chat_mode ?? 'chat_normal';
  const model = b.model;
  const convUid = typeof b.conv_uid === 'string' && b.conv_uid !== '' ? b.conv_uid : randomUUID();
  const fail: Fail = (status, message) => {
    if (b.stream === true) {
      // DB-GPT streams errors with HTTP 200: the role chunk, the error object, then [DONE]
      res.status(200).set({ 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
      res.write(`data: ${JSON.stringify({ id: convUid, model, choices: [{ index: 0, delta: { role: 'assistant' }, finish_reason: null }] })}\n\n`);
      res.end(chatStreamError(message));
      return;
    }
    res.status(status).json({ object: 'error', message, code: 1 });
  };
  if (typeof mode !== 'string' || !MODES.includes(mode)) {
    fail(400, `Unsupported chat mode: ${String(mode)} (invalid_chat_mode)`);
    return;
  }
  const uid = b.chat_param;
  if (mode === 'chat_flow' && (typeof uid !== 'string' || uid === '')) {
    fail(400, 'chat_param (the flow uid) is required for chat_mode "chat_flow" (invalid_chat_param)');
    return;
  }
  await chat(ctx, req, res, { mode, uid: mode === 'chat_flow' ? (uid as string) : null, body: b, fail, streamEnd: chatStreamError });
}

/**
 * `POST /api/v1/chat/completions`, the chat route of DB-GPT's web UI (body `ConversationVo`:
 * `chat_mode`, `select_param` — the flow uid for `chat_flow` —, `user_input`, `conv_uid`,
 * `model_name`, …). DB-GPT answers it with an event stream, errors included (HTTP 200, one
 * `[SERVER_ERROR]…` message chunk, no `[DONE]`); flowreg answers its own errors in that shape and
 * forwards the chat to a runtime as the v2 route does.
 */
export async function chatCompletionsV1(ctx: ChatContext, req: Request, res: Response): Promise<void> {
  const body: unknown = req.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new FlowregError('INVALID_INPUT', 'the body must be a JSON object (ConversationVo)', { loc: 'body' });
  }
  const b = body as Record<string, unknown>;
  const mode = b.chat_mode === undefined || b.chat_mode === null || b.chat_mode === '' ? 'chat_normal' : b.chat_mode;
  const convUid = typeof b.conv_uid === 'string' ? b.conv_uid : '';
  const model = typeof b.model_name === 'string' ? b.model_name : null;
  const v1Error = (message: string): string => {
    const chunk = { id: convUid, model, choices: [{ index: 0, message: { role: 'assistant', content: `[SERVER_ERROR]${message}`, reasoning_content: null } }], usage: {} };
    return `data: ${JSON.stringify(chunk)}\n\n`;
  };
  const fail: Fail = (_status, message) => {
    res.status(200).set({ 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
    res.end(v1Error(message));
  };
  if (typeof mode !== 'string') {
    fail(400, `Unsupported chat mode: ${String(mode)} (invalid_chat_mode)`);
    return;
  }
  const uid = b.select_param;
  if (mode === 'chat_flow' && (typeof uid !== 'string' || uid === '')) {
    fail(400, 'select_param (the flow uid) is required for chat_mode "chat_flow"');
    return;
  }
  await chat(ctx, req, res, { mode, uid: mode === 'chat_flow' ? (uid as string) : null, body: b, fail, streamEnd: v1Error });
}

/** A validated chat: with a flow (`uid`) or another mode, answered through the route's `fail` when no runtime takes it. */
async function chat(ctx: ChatContext, req: Request, res: Response, c: { mode: string; uid: string | null; body: Record<string, unknown>; fail: Fail; streamEnd: (message: string) => string }): Promise<void> {
  const gateway = gatewayOf(ctx);
  const forward = async (targets: RuntimeTarget[], what: string): Promise<void> => {
    if (gateway === null) return;
    const result = await gateway.proxy.forward(req, res, { targets, body: Buffer.from(JSON.stringify(c.body)), streamEnd: c.streamEnd });
    if (!result.answered) c.fail(503, `${what}, and no runtime answered: ${describeRefusals(result.refusals)}`);
  };
  if (c.uid === null) {
    if (gateway === null) {
      c.fail(400, `flowreg serves flows only: chat_mode "${c.mode}" needs DB-GPT itself (no runtime is configured); use chat_mode "chat_flow" with a flow uid in chat_param`);
      return;
    }
    await forward(gateway.proxy.order(gateway.runtimes.targets), `chat_mode "${c.mode}" is forwarded to the runtimes`);
    return;
  }
  const uid = c.uid;
  let json: string;
  try {
    ({ json } = await ctx.service.getJson(uid));
  } catch (err) {
    if (isFlowregError(err, 'FLOW_NOT_FOUND')) {
      c.fail(400, `Flow ${uid} not found`);
      return;
    }
    throw err;
  }
  if (gateway === null) {
    c.fail(400, `Flow ${uid}'s dag id not found: flowreg stores and versions flows, and no runtime is configured to run them; start flowreg with --runtime <DB-GPT URL> to chat with it`);
    return;
  }
  const targets = gateway.runtimes.liveOn(uid);
  if (targets.length === 0) {
    c.fail(400, notLiveMessage(uid, (JSON.parse(json) as { state?: unknown }).state, gateway.runtimes.statusOf(uid)));
    return;
  }
  await forward(targets, `Flow ${uid} is live on ${targets.map((t) => t.name).join(', ')}`);
}

/** Why a flow is live on no runtime: its state, or each runtime's word on it. */
function notLiveMessage(uid: string, state: unknown, statuses: RuntimeFlowStatus[]): string {
  const each = statuses.map((s) => `${s.runtime}: ${s.error ?? (s.commit === null ? 'not deployed' : 'deployed but not running')}`).join('; ');
  if (statuses.length > 0 && statuses.every((s) => s.error !== null && s.error.startsWith('down: '))) return `Flow ${uid} cannot be chatted with: every runtime is down (${each})`;
  // a flow no runtime has a word on: its state may keep it off the runtimes
  if (statuses.every((s) => s.error === null && s.commit === null) && typeof state === 'string' && !RUN_STATES.has(state)) {
    return `Flow ${uid} is not live on any runtime: its state is "${state}", and only flows in state "deployed" are deployed to the runtimes${each === '' ? '' : ` (${each})`}`;
  }
  return `Flow ${uid} is not live on any runtime: ${each === '' ? 'no runtime has reported on it yet' : each}`;
}
