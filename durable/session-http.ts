/** HTTP helpers of the session object: a body that releases its request id at its end, and the synthetic requests that replay the handshake. */

/**
 * The response with `release` called once its body has been read to the end, failed or been
 * cancelled; at once for a response that is not an event stream (no body, or a JSON body that
 * was complete when the response was made).
 */
export function releasedAtEnd(response: Response, release: () => void): Response {
  const body = response.body;
  if (!body || !response.headers.get('content-type')?.startsWith('text/event-stream')) {
    release();
    return response;
  }
  const reader = body.getReader() as ReadableStreamDefaultReader<Uint8Array>;
  const wrapped = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          release();
          controller.close();
        } else {
          controller.enqueue(value);
        }
      } catch (error) {
        release();
        controller.error(error);
      }
    },
    async cancel(reason) {
      release();
      await reader.cancel(reason);
    },
  });
  return new Response(wrapped, response);
}

export function syntheticPost(sessionId: string, protocolVersion: string | null): Request {
  const headers = new Headers({ 'content-type': 'application/json', accept: 'application/json, text/event-stream' });
  if (protocolVersion) {
    headers.set('mcp-session-id', sessionId);
    headers.set('mcp-protocol-version', protocolVersion);
  }
  return new Request('http://session.internal/mcp', { method: 'POST', headers });
}

/** Reads a replayed response to its end: the SDK has then applied the message to its state. */
export async function drain(response: Response): Promise<void> {
  if (!response.ok) throw new Error(`replaying the stored handshake failed with ${response.status}`);
  await response.text();
}
