// What the Janus API and the Admin API share around their dispatch: turning a thrown
// JanusError into the error reply (with whatever session_id / transaction the request had
// revealed so far), delivering the reply, and splitting a text frame into requests while
// keeping the order of their replies.

import type { Logger } from '../log';
import type { JsonObject } from '../plugin/json';
import { isJsonObject } from '../plugin/json';
import type { ReplySink, TransportConnection } from './connection';
import { JanusError, JanusErrorCode } from './errors';
import { type ParsedDocument, decodeUtf8, parseJsonDocuments } from './json-documents';
import { type FieldRule, type RequestIds, errorReply, janusError, requestIds, validateFields } from './protocol';

/** Filled in by a dispatcher as it validates: what an error reply may echo. */
export interface RequestContext {
  sessionId: number;
  transaction: string | undefined;
}

/** A request past the checks every request gets first. */
export interface CheckedRequest {
  request: JsonObject;
  ids: RequestIds;
  transaction: string;
  /** `janus` as sent, and lower-cased. */
  verbText: string;
  verb: string;
}

/**
 * The checks both APIs start a request with: a JSON object, its ids (an error reply echoes the
 * session id from then on), its fields against `rules`, then its transaction (echoed too).
 */
export function checkRequest(request: unknown, rules: readonly FieldRule[], context: RequestContext): CheckedRequest {
  if (!isJsonObject(request)) throw janusError(JanusErrorCode.INVALID_JSON_OBJECT, 'JSON error: not an object');
  const ids = requestIds(request);
  if (ids.sessionId > 0) context.sessionId = ids.sessionId;
  validateFields(request, rules);
  const transaction = request.transaction as string;
  context.transaction = transaction;
  const verbText = request.janus as string;
  return { request, ids, transaction, verbText, verb: verbText.toLowerCase() };
}

/**
 * Told of every request's outcome (metrics): the verb as sent, lower-cased ('' when the request
 * was not even an object with a `janus` string), and the reply. Must not throw.
 */
export type RequestObserver = (verb: string, reply: JsonObject) => void;

function observeRequest(observe: RequestObserver | undefined, request: unknown, response: JsonObject, log: Logger): void {
  if (!observe) return;
  const verb = isJsonObject(request) && typeof request.janus === 'string' ? request.janus.toLowerCase() : '';
  try {
    observe(verb, response);
  } catch (error) {
    log.warn('request observer failed', { error: error as Error });
  }
}

/**
 * Answers one request: the reply itself when it is known at once (ping, keepalive, trickle...),
 * a promise when the answer waits for a plugin. May throw (a JanusError becomes the error reply).
 */
export type Dispatcher = (connection: TransportConnection, request: unknown, context: RequestContext) => JsonObject | Promise<JsonObject>;

function deliver(connection: TransportConnection, reply: ReplySink | undefined, response: JsonObject, log: Logger): void {
  try {
    (reply ?? ((message: JsonObject) => connection.send(message)))(response);
  } catch (error) {
    log.warn('reply delivery failed', { transport: connection.id, error: error as Error });
  }
}

/** The error reply for what a dispatch threw (a JanusError keeps its code; anything else is 'Unknown error'). */
function failureReply(error: unknown, context: RequestContext, connection: TransportConnection, log: Logger): JsonObject {
  if (error instanceof JanusError) return errorReply(context.sessionId, context.transaction, error.code, error.reason);
  log.error('request failed', { error: error as Error, transport: connection.id });
  return errorReply(context.sessionId, context.transaction, JanusErrorCode.UNKNOWN, 'Unknown error');
}

/**
 * Runs one request through `dispatch`; never throws. The reply is delivered and returned. A
 * reply known at once is delivered before this returns (no promise hop per layer: most
 * requests are answered synchronously, and a plugin's answer only waits for the plugin).
 */
export function runRequest(
  dispatch: Dispatcher,
  connection: TransportConnection,
  request: unknown,
  reply: ReplySink | undefined,
  log: Logger,
  observe?: RequestObserver,
): Promise<JsonObject> {
  const context: RequestContext = { sessionId: 0, transaction: undefined };
  const finish = (response: JsonObject): JsonObject => {
    deliver(connection, reply, response, log);
    observeRequest(observe, request, response, log);
    return response;
  };
  let outcome: JsonObject | Promise<JsonObject>;
  try {
    outcome = dispatch(connection, request, context);
  } catch (error) {
    outcome = failureReply(error, context, connection, log);
  }
  if (outcome instanceof Promise) {
    return outcome.then(finish, (error: unknown) => finish(failureReply(error, context, connection, log)));
  }
  return Promise.resolve(finish(outcome));
}

/**
 * Every JSON document of a frame, in order, but only when every one of them parses (Janus
 * refuses the whole frame): else one 454 with no transaction and nothing runs. Bytes must be
 * valid UTF-8 (454 otherwise).
 */
export function runText(
  run: (request: unknown) => Promise<JsonObject>,
  connection: TransportConnection,
  frame: string | Uint8Array,
  reply: ReplySink | undefined,
  log: Logger,
  observe?: RequestObserver,
): Promise<JsonObject[]> {
  const text = typeof frame === 'string' ? frame : decodeUtf8(frame);
  const documents = text === undefined ? [{ ok: false as const, error: 'invalid UTF-8' }] : parseJsonDocuments(text);
  const failed = documents.find((document) => !document.ok);
  if (failed && !failed.ok) {
    log.debug('invalid JSON request', { transport: connection.id, error: failed.error });
    const response = errorReply(0, undefined, JanusErrorCode.INVALID_JSON, `JSON error: ${failed.error}`);
    deliver(connection, reply, response, log);
    observeRequest(observe, undefined, response, log);
    return Promise.resolve([response]);
  }
  const runDocument = (document: ParsedDocument): Promise<JsonObject> => run(document.ok ? document.value : null);
  // One document per frame is the common case: its reply, without Promise.all's bookkeeping.
  if (documents.length === 1) return runDocument(documents[0]!).then((response) => [response]);
  return Promise.all(documents.map(runDocument));
}
