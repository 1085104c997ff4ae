/** The MCP conformance suite's test tools, and the media payloads its fixtures share. */
import type { CallToolResult, ElicitRequestFormParams, McpServer, ServerContext } from '@modelcontextprotocol/server';
import { z } from 'zod';

/** Which revision the tools serve (src/mcp/server.ts). */
type Era = 'session' | 'stateless';

/** A 1x1 red pixel, 8-bit RGB PNG (69 bytes, valid CRCs). */
export const RED_PIXEL_PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR42mP4z8AAAAMBAQD3A0FDAAAAAElFTkSuQmCC';

/** Eight samples of silence as a mono 16-bit 8 kHz PCM WAV file, base64-encoded. */
export const SILENT_WAV = (() => {
  const sampleRate = 8000;
  const dataBytes = 8 * 2;
  const view = new DataView(new ArrayBuffer(44 + dataBytes));
  const ascii = (offset: number, text: string): void => {
    for (let i = 0; i < text.length; i++) view.setUint8(offset + i, text.charCodeAt(i));
  };
  ascii(0, 'RIFF');
  view.setUint32(4, 36 + dataBytes, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, 16, true); // fmt chunk size
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 2, true); // byte rate
  view.setUint16(32, 2, true); // block align
  view.setUint16(34, 16, true); // bits per sample
  ascii(36, 'data');
  view.setUint32(40, dataBytes, true);
  return btoa(String.fromCharCode(...new Uint8Array(view.buffer)));
})();

const JSON_SCHEMA_2020_12 = 'https://json-schema.org/draft/2020-12/schema';

/**
 * Input of `json_schema_2020_12_tool`. The SDK lists zod schemas as draft-07 JSON Schema, so the
 * 2020-12 keywords the scenario looks for ride on zod metadata, which the converter merges verbatim:
 * the root carries `$schema` and `$defs`, and `address` (validated by `AddressSchema`) is listed as a
 * bare `$ref`. `strictObject` yields `additionalProperties: false` and rejects unknown keys at call time.
 */
const AddressSchema = z.object({ street: z.string().optional(), city: z.string().optional() });
export const JsonSchema2020Input = z
  .strictObject({
    name: z.string().optional(),
    address: z.unknown().pipe(AddressSchema).optional().meta({ $ref: '#/$defs/address' }),
  })
  .meta({
    $schema: JSON_SCHEMA_2020_12,
    $defs: {
      address: {
        type: 'object',
        properties: { street: { type: 'string' }, city: { type: 'string' } },
      },
    },
  });

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const text = (value: string): CallToolResult => ({ content: [{ type: 'text', text: value }] });

/** Sends an elicitation on the tool call's stream and reports the outcome as the scenarios expect. */
async function elicit(
  server: McpServer,
  ctx: ServerContext,
  params: ElicitRequestFormParams,
  label: string,
): Promise<CallToolResult> {
  if (!server.server.getClientCapabilities()?.elicitation) {
    throw new Error('Client does not support elicitation (no elicitation capability)');
  }
  // On the tool call's own stream (the SDK's elicitInput would use the standalone GET stream).
  const result = await ctx.mcpReq.send({ method: 'elicitation/create', params });
  return text(`${label}: action=${result.action}, content=${JSON.stringify(result.content ?? {})}`);
}

/**
 * Registers every conformance tool (tools-* scenarios, json-schema-2020-12, elicitation-sep*,
 * server-sse-polling); a stateless server gets no tool that needs a server-to-client request or a
 * resumable stream (2026-07-28 removed both).
 */
export function registerConformanceTools(server: McpServer, era: Era): void {
  registerContentTools(server);
  registerBehaviourTools(server, era);
  if (era === 'session') registerClientRequestTools(server);
}

/** The pack's tools that send nothing before their result: answered as one JSON body in a session (issue 14). */
export const QUIET_CONFORMANCE_TOOLS: readonly string[] = ['test_simple_text', 'test_image_content', 'test_audio_content', 'test_embedded_resource', 'test_multiple_content_types', 'test_error_handling', 'json_schema_2020_12_tool'];

/** tools-call-simple-text, -image, -audio, -embedded-resource, -mixed-content, -error, json-schema-2020-12. */
function registerContentTools(server: McpServer): void {
  server.registerTool(
    'test_simple_text',
    { description: 'Returns a simple text content block' },
    () => text('This is a simple text response for testing.'),
  );

  server.registerTool(
    'test_image_content',
    { description: 'Returns an image content block (1x1 red PNG)' },
    () => ({ content: [{ type: 'image', data: RED_PIXEL_PNG, mimeType: 'image/png' }] }),
  );

  server.registerTool(
    'test_audio_content',
    { description: 'Returns an audio content block (tiny WAV)' },
    () => ({ content: [{ type: 'audio', data: SILENT_WAV, mimeType: 'audio/wav' }] }),
  );

  server.registerTool(
    'test_embedded_resource',
    { description: 'Returns an embedded text resource' },
    () => ({
      content: [
        {
          type: 'resource',
          resource: {
            uri: 'test://embedded-resource',
            mimeType: 'text/plain',
            text: 'This is an embedded resource content.',
          },
        },
      ],
    }),
  );

  server.registerTool(
    'test_multiple_content_types',
    { description: 'Returns text, image and embedded resource content together' },
    () => ({
      content: [
        { type: 'text', text: 'Multiple content types test:' },
        { type: 'image', data: RED_PIXEL_PNG, mimeType: 'image/png' },
        {
          type: 'resource',
          resource: {
            uri: 'test://mixed-content-resource',
            mimeType: 'application/json',
            text: JSON.stringify({ test: 'data', value: 123 }),
          },
        },
      ],
    }),
  );

  server.registerTool(
    'test_error_handling',
    { description: 'Always fails; the error is reported as a result with isError: true' },
    () => {
      throw new Error('This tool intentionally returns an error for testing');
    },
  );

  server.registerTool(
    'json_schema_2020_12_tool',
    { description: 'Tool with JSON Schema 2020-12 features', inputSchema: JsonSchema2020Input },
    (args) => text(`JSON Schema 2020-12 tool called with: ${JSON.stringify(args)}`),
  );
}

/** tools-call-with-logging, tools-call-with-progress, server-sse-polling. */
function registerBehaviourTools(server: McpServer, era: Era): void {
  server.registerTool(
    'test_tool_with_logging',
    { description: 'Sends three info log notifications while it runs' },
    async (ctx) => {
      // A session sends them as the scenario expects; a stateless request gets them at or above its envelope's level.
      const log = (data: string) =>
        era === 'stateless' ? ctx.mcpReq.log('info', data) : ctx.mcpReq.notify({ method: 'notifications/message', params: { level: 'info', data } });
      await log('Tool execution started');
      await sleep(50);
      await log('Tool processing data');
      await sleep(50);
      await log('Tool execution completed');
      return text('Tool with logging executed successfully');
    },
  );

  server.registerTool(
    'test_tool_with_progress',
    { description: 'Reports progress 0, 50 and 100 of 100 when given a progress token' },
    async (ctx) => {
      const progressToken = ctx.mcpReq._meta?.progressToken;
      const report = async (progress: number) => {
        if (progressToken === undefined) return;
        await ctx.mcpReq.notify({
          method: 'notifications/progress',
          params: { progressToken, progress, total: 100 },
        });
      };
      await report(0);
      await sleep(50);
      await report(50);
      await sleep(50);
      await report(100);
      return text('Tool with progress executed successfully');
    },
  );

  if (era === 'stateless') return;
  server.registerTool(
    'test_reconnection',
    {
      description:
        'Closes its SSE stream mid-call (SEP-1699); the result is delivered after the client reconnects with Last-Event-ID',
    },
    async (ctx) => {
      // Present only when the transport has an event store and the client can resume (>= 2025-11-25).
      ctx.http?.closeSSE?.();
      await sleep(100);
      return text('Reconnection test completed successfully');
    },
  );
}

/** tools-call-sampling, tools-call-elicitation, elicitation-sep1034-defaults, elicitation-sep1330-enums. */
function registerClientRequestTools(server: McpServer): void {
  server.registerTool(
    'test_sampling',
    {
      description: 'Asks the client to sample an LLM completion for the prompt',
      inputSchema: z.object({ prompt: z.string().describe('The prompt to send to the LLM') }),
    },
    async ({ prompt }, ctx) => {
      if (!server.server.getClientCapabilities()?.sampling) {
        throw new Error('Client does not support sampling (no sampling capability)');
      }
      // On the tool call's own stream (the SDK's requestSampling would use the standalone GET stream).
      const result = await ctx.mcpReq.send({ method: 'sampling/createMessage', params: { messages: [{ role: 'user', content: { type: 'text', text: prompt } }], maxTokens: 100 } });
      const content = Array.isArray(result.content) ? result.content[0] : result.content;
      const reply = content?.type === 'text' ? content.text : `[${content?.type ?? 'no'} content]`;
      return text(`LLM response: ${reply}`);
    },
  );

  server.registerTool(
    'test_elicitation',
    {
      description: 'Asks the client to elicit a username and email from the user',
      inputSchema: z.object({ message: z.string().describe('The message to show the user') }),
    },
    ({ message }, ctx) =>
      elicit(
        server,
        ctx,
        {
          message,
          requestedSchema: {
            type: 'object',
            properties: {
              username: { type: 'string', description: "User's response" },
              email: { type: 'string', description: "User's email address" },
            },
            required: ['username', 'email'],
          },
        },
        'User response',
      ),
  );

  server.registerTool(
    'test_elicitation_sep1034_defaults',
    { description: 'Elicits a form whose fields carry default values of every primitive type (SEP-1034)' },
    (ctx) =>
      elicit(
        server,
        ctx,
        {
          message: 'Please review and update the form fields with defaults',
          requestedSchema: {
            type: 'object',
            properties: {
              name: { type: 'string', description: 'User name', default: 'John Doe' },
              age: { type: 'integer', description: 'User age', default: 30 },
              score: { type: 'number', description: 'User score', default: 95.5 },
              status: {
                type: 'string',
                description: 'User status',
                enum: ['active', 'inactive', 'pending'],
                default: 'active',
              },
              verified: { type: 'boolean', description: 'Verification status', default: true },
            },
          },
        },
        'Elicitation completed',
      ),
  );

  server.registerTool(
    'test_elicitation_sep1330_enums',
    { description: 'Elicits a form using all five enum schema variants (SEP-1330)' },
    (ctx) =>
      elicit(
        server,
        ctx,
        {
          message: 'Please select options from the enum fields',
          requestedSchema: {
            type: 'object',
            properties: {
              untitledSingle: {
                type: 'string',
                description: 'Select one option',
                enum: ['option1', 'option2', 'option3'],
              },
              titledSingle: {
                type: 'string',
                description: 'Select one option with titles',
                oneOf: [
                  { const: 'value1', title: 'First Option' },
                  { const: 'value2', title: 'Second Option' },
                  { const: 'value3', title: 'Third Option' },
                ],
              },
              legacyEnum: {
                type: 'string',
                description: 'Select one option (legacy)',
                enum: ['opt1', 'opt2', 'opt3'],
                enumNames: ['Option One', 'Option Two', 'Option Three'],
              },
              untitledMulti: {
                type: 'array',
                description: 'Select multiple options',
                items: { type: 'string', enum: ['option1', 'option2', 'option3'] },
              },
              titledMulti: {
                type: 'array',
                description: 'Select multiple options with titles',
                items: {
                  anyOf: [
                    { const: 'value1', title: 'First Choice' },
                    { const: 'value2', title: 'Second Choice' },
                    { const: 'value3', title: 'Third Choice' },
                  ],
                },
              },
            },
          },
        },
        'Elicitation completed',
      ),
  );
}
