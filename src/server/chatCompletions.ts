import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import { FlowregError, isFlowregError } from '../errors/index.ts';
import type { FlowServiceApi } from '../service/FlowServiceApi.ts';

const MODES = ['chat_normal', 'chat_flow', 'chat_app', 'chat_knowledge', 'chat_data', 'chat_excel', 'chat_dashboard', 'chat_agent'];

/**
 * `POST /api/v2/chat/completions` (docs/api.md) as DB-GPT answers it for `chat_mode: "chat_flow"`
 * when the flow cannot run: flowreg stores flows and does not execute them, so a known flow is
 * answered like an undeployed one in DB-GPT — non-streaming: HTTP 400 `ErrorResponse`
 * `{"object":"error","message":…,"code":1}`; streaming: HTTP 200 SSE with the role chunk, the
 * error object and `data: [DONE]`, the framing `dbgpt_client.chat_stream` parses. Request
 * validation errors keep DB-GPT's envelope (400 E0001).
 */
export async function chatCompletions(service: FlowServiceApi, req: Request, res: Response): Promise<void> {
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
  const fail = (status: number, message: string): void => {
    if (b.stream === true) {
      // DB-GPT streams errors with HTTP 200: the role chunk, the error object, then [DONE]
      res.status(200).set({ 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
      res.write(`data: ${JSON.stringify({ id: convUid, model, choices: [{ index: 0, delta: { role: 'assistant' }, finish_reason: null }] })}\n\n`);
      res.write(`data: ${JSON.stringify({ error_code: 1, text: message, incremental: true, model_context: null, finish_reason: null, usage: null, metrics: null })}\n\n`);
      res.end('data: [DONE]\n\n');
      return;
    }
    res.status(status).json({ object: 'error', message, code: 1 });
  };
  if (typeof mode !== 'string' || !MODES.includes(mode)) {
    fail(400, `Unsupported chat mode: ${String(mode)} (invalid_chat_mode)`);
    return;
  }
  if (mode !== 'chat_flow') {
    fail(400, `flowreg serves flows only: chat_mode "${mode}" needs DB-GPT itself; use chat_mode "chat_flow" with a flow uid in chat_param`);
    return;
  }
  const uid = b.chat_param;
  if (typeof uid !== 'string' || uid === '') {
    fail(400, 'chat_param (the flow uid) is required for chat_mode "chat_flow" (invalid_chat_param)');
    return;
  }
  try {
    await service.getJson(uid);
  } catch (err) {
    if (isFlowregError(err, 'FLOW_NOT_FOUND')) {
      fail(400, `Flow ${uid} not found`);
      return;
    }
    throw err;
  }
  fail(400, `Flow ${uid}'s dag id not found: flowreg stores and versions flows but does not run them; deploy the flow in DB-GPT to chat with it`);
}
