// One Admin API request over HTTP POST, expected to answer 200 with JSON.

import { expect } from 'chai';
import type { JsonObject, JsonValue } from '../../src/plugin/json';

export async function adminPost(url: string, body: JsonValue): Promise<JsonObject> {
  const response = await fetch(url, { method: 'POST', body: JSON.stringify(body), signal: AbortSignal.timeout(5000) });
  expect(response.status).to.equal(200);
  return (await response.json()) as JsonObject;
}
