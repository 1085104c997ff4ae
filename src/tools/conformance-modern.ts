/**
 * The MCP conformance suite's fixtures for the stateless 2026-07-28 revision, on the TypeScript
 * SDK v2 server: the same tools, resources, prompts and completions as the session pack
 * (conformance.ts, on SDK v1), minus what 2026-07-28 removed (server-to-client requests,
 * subscriptions, stream resumption).
 */
import { completable, ResourceTemplate, type CallToolResult, type McpServer, type RegisteredTool } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { JsonSchema2020Input, RED_PIXEL_PNG, SILENT_WAV } from './conformance-tools.ts';

const text = (value: string): CallToolResult => ({ content: [{ type: 'text', text: value }] });
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const suggest = (words: readonly string[]) => (value: string): string[] => words.filter((word) => word.toLowerCase().startsWith(value.toLowerCase()));

/** Registers the conformance suite's 2026-07-28 tools, resources and prompts; returns the tool handles by name. */
export function registerModernConformancePack(server: McpServer): Map<string, RegisteredTool> {
  const tools = registerTools(server);
  registerResources(server);
  registerPrompts(server);
  return tools;
}

function registerTools(server: McpServer): Map<string, RegisteredTool> {
  const tools = new Map<string, RegisteredTool>();
  const add = (name: string, handle: RegisteredTool) => tools.set(name, handle);
  add('test_simple_text', server.registerTool('test_simple_text', { description: 'Returns a simple text content block' }, () => text('This is a simple text response for testing.')));
  add('test_image_content', server.registerTool('test_image_content', { description: 'Returns an image content block (1x1 red PNG)' }, () => ({ content: [{ type: 'image', data: RED_PIXEL_PNG, mimeType: 'image/png' }] })));
  add('test_audio_content', server.registerTool('test_audio_content', { description: 'Returns an audio content block (tiny WAV)' }, () => ({ content: [{ type: 'audio', data: SILENT_WAV, mimeType: 'audio/wav' }] })));
  add(
    'test_embedded_resource',
    server.registerTool('test_embedded_resource', { description: 'Returns an embedded text resource' }, () => ({
      content: [{ type: 'resource', resource: { uri: 'test://embedded-resource', mimeType: 'text/plain', text: 'This is an embedded resource content.' } }],
    })),
  );
  add(
    'test_multiple_content_types',
    server.registerTool('test_multiple_content_types', { description: 'Returns text, image and embedded resource content together' }, () => ({
      content: [
        { type: 'text', text: 'Multiple content types test:' },
        { type: 'image', data: RED_PIXEL_PNG, mimeType: 'image/png' },
        { type: 'resource', resource: { uri: 'test://mixed-content-resource', mimeType: 'application/json', text: JSON.stringify({ test: 'data', value: 123 }) } },
      ],
    })),
  );
  add(
    'test_error_handling',
    server.registerTool('test_error_handling', { description: 'Always fails; the error is reported as a result with isError: true' }, () => {
      throw new Error('This tool intentionally returns an error for testing');
    }),
  );
  add('json_schema_2020_12_tool', server.registerTool('json_schema_2020_12_tool', { description: 'Tool with JSON Schema 2020-12 features', inputSchema: JsonSchema2020Input }, (args) => text(`JSON Schema 2020-12 tool called with: ${JSON.stringify(args)}`)));
  add(
    'test_tool_with_logging',
    server.registerTool('test_tool_with_logging', { description: 'Sends three info log notifications while it runs' }, async (ctx) => {
      for (const data of ['Tool execution started', 'Tool processing data', 'Tool execution completed']) {
        await ctx.mcpReq.log('info', data);
        await sleep(50);
      }
      return text('Tool with logging executed successfully');
    }),
  );
  add(
    'test_tool_with_progress',
    server.registerTool('test_tool_with_progress', { description: 'Reports progress 0, 50 and 100 of 100 when given a progress token' }, async (ctx) => {
      const progressToken = ctx.mcpReq._meta?.progressToken;
      for (const progress of [0, 50, 100]) {
        if (progressToken !== undefined) await ctx.mcpReq.notify({ method: 'notifications/progress', params: { progressToken, progress, total: 100 } });
        if (progress < 100) await sleep(50);
      }
      return text('Tool with progress executed successfully');
    }),
  );
  return tools;
}

function registerResources(server: McpServer): void {
  server.registerResource('static-text', 'test://static-text', { title: 'Static Text Resource', description: 'A static text resource', mimeType: 'text/plain' }, (uri) => ({
    contents: [{ uri: uri.href, mimeType: 'text/plain', text: 'This is the content of the static text resource.' }],
  }));
  server.registerResource('static-binary', 'test://static-binary', { title: 'Static Binary Resource', description: 'A static binary resource (1x1 PNG)', mimeType: 'image/png' }, (uri) => ({
    contents: [{ uri: uri.href, mimeType: 'image/png', blob: RED_PIXEL_PNG }],
  }));
  server.registerResource('watched-resource', 'test://watched-resource', { title: 'Watched Resource', description: 'A resource clients may subscribe to', mimeType: 'text/plain' }, (uri) => ({
    contents: [{ uri: uri.href, mimeType: 'text/plain', text: 'Watched resource content' }],
  }));
  server.registerResource(
    'template',
    new ResourceTemplate('test://template/{id}/data', { list: undefined, complete: { id: suggest(['123', '456', '789']) } }),
    { title: 'Resource Template', description: 'Data for the id in the URI', mimeType: 'application/json' },
    (uri, variables) => {
      const raw = variables['id'];
      const id = Array.isArray(raw) ? raw.join(',') : (raw ?? '');
      return { contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify({ id, templateTest: true, data: `Data for ID: ${id}` }) }] };
    },
  );
}

function registerPrompts(server: McpServer): void {
  server.registerPrompt('test_simple_prompt', { title: 'Simple Test Prompt', description: 'A simple prompt without arguments' }, () => ({
    messages: [{ role: 'user', content: { type: 'text', text: 'This is a simple prompt for testing.' } }],
  }));
  const words = suggest(['hello', 'paris', 'park', 'party', 'test', 'world']);
  server.registerPrompt(
    'test_prompt_with_arguments',
    {
      title: 'Prompt With Arguments',
      description: 'A prompt with two required arguments',
      argsSchema: z.object({ arg1: completable(z.string().describe('First test argument'), words), arg2: completable(z.string().describe('Second test argument'), words) }),
    },
    ({ arg1, arg2 }) => ({ messages: [{ role: 'user', content: { type: 'text', text: `Prompt with arguments: arg1='${arg1}', arg2='${arg2}'` } }] }),
  );
  server.registerPrompt(
    'test_prompt_with_embedded_resource',
    { title: 'Prompt With Embedded Resource', description: 'A prompt that embeds the resource it is given', argsSchema: z.object({ resourceUri: z.string().describe('URI of the resource to embed') }) },
    ({ resourceUri }) => ({
      messages: [
        { role: 'user', content: { type: 'resource', resource: { uri: resourceUri, mimeType: 'text/plain', text: 'Embedded resource content for testing.' } } },
        { role: 'user', content: { type: 'text', text: 'Please process the embedded resource above.' } },
      ],
    }),
  );
  server.registerPrompt('test_prompt_with_image', { title: 'Prompt With Image', description: 'A prompt that includes image content' }, () => ({
    messages: [
      { role: 'user', content: { type: 'image', data: RED_PIXEL_PNG, mimeType: 'image/png' } },
      { role: 'user', content: { type: 'text', text: 'Please analyze the image above.' } },
    ],
  }));
}
