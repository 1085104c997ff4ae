/**
 * The MCP conformance suite's test fixtures: the tools, resources, prompts and completions its
 * server scenarios call, for both revisions (a 2026-07-28 server has no subscriptions and no
 * server-to-client requests: those fixtures are registered for sessions only).
 */
import { completable, ResourceTemplate, type McpServer, type ServerCapabilities } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { RED_PIXEL_PNG, registerConformanceTools } from './conformance-tools.ts';

export { QUIET_CONFORMANCE_TOOLS } from './conformance-tools.ts';

/** Which revision the pack serves (src/mcp/server.ts). */
type Era = 'session' | 'stateless';

/** Server capabilities the conformance pack needs, merged into the server's own. */
export const conformanceCapabilities: ServerCapabilities = {
  tools: { listChanged: true },
  resources: { subscribe: true, listChanged: true },
  prompts: { listChanged: true },
  logging: {},
  completions: {},
};

/** Suggestions from `words` that start with what the user typed so far. */
const suggest = (words: readonly string[]) => (value: string): string[] =>
  words.filter((word) => word.toLowerCase().startsWith(value.toLowerCase()));

/** Registers the MCP conformance suite's test tools, resources and prompts on a server. */
export function registerConformancePack(server: McpServer, era: Era): void {
  registerConformanceTools(server, era);
  registerResources(server, era);
  registerPrompts(server);
}

/** resources-list, -read-text, -read-binary, -templates-read, -subscribe, -unsubscribe. */
function registerResources(server: McpServer, era: Era): void {
  server.registerResource(
    'static-text',
    'test://static-text',
    { title: 'Static Text Resource', description: 'A static text resource', mimeType: 'text/plain' },
    (uri) => ({
      contents: [
        { uri: uri.href, mimeType: 'text/plain', text: 'This is the content of the static text resource.' },
      ],
    }),
  );

  server.registerResource(
    'static-binary',
    'test://static-binary',
    { title: 'Static Binary Resource', description: 'A static binary resource (1x1 PNG)', mimeType: 'image/png' },
    (uri) => ({ contents: [{ uri: uri.href, mimeType: 'image/png', blob: RED_PIXEL_PNG }] }),
  );

  server.registerResource(
    'watched-resource',
    'test://watched-resource',
    { title: 'Watched Resource', description: 'A resource clients may subscribe to', mimeType: 'text/plain' },
    (uri) => ({ contents: [{ uri: uri.href, mimeType: 'text/plain', text: 'Watched resource content' }] }),
  );

  server.registerResource(
    'template',
    new ResourceTemplate('test://template/{id}/data', {
      list: undefined,
      complete: { id: suggest(['123', '456', '789']) },
    }),
    { title: 'Resource Template', description: 'Data for the id in the URI', mimeType: 'application/json' },
    (uri, variables) => {
      const raw = variables['id'];
      const id = Array.isArray(raw) ? raw.join(',') : (raw ?? '');
      return {
        contents: [
          {
            uri: uri.href,
            mimeType: 'application/json',
            text: JSON.stringify({ id, templateTest: true, data: `Data for ID: ${id}` }),
          },
        ],
      };
    },
  );

  // McpServer answers list/read itself but not subscriptions; nothing changes, so no updates are ever sent.
  if (era === 'stateless') return;
  const subscriptions = new Set<string>();
  server.server.setRequestHandler('resources/subscribe', (request) => {
    subscriptions.add(request.params.uri);
    return {};
  });
  server.server.setRequestHandler('resources/unsubscribe', (request) => {
    subscriptions.delete(request.params.uri);
    return {};
  });
}

/** prompts-list, -get-simple, -get-with-args, -get-embedded-resource, -get-with-image, completion-complete. */
function registerPrompts(server: McpServer): void {
  server.registerPrompt(
    'test_simple_prompt',
    { title: 'Simple Test Prompt', description: 'A simple prompt without arguments' },
    () => ({
      messages: [{ role: 'user', content: { type: 'text', text: 'This is a simple prompt for testing.' } }],
    }),
  );

  // Completable arguments make McpServer answer completion/complete for this prompt.
  const words = suggest(['hello', 'paris', 'park', 'party', 'test', 'world']);
  server.registerPrompt(
    'test_prompt_with_arguments',
    {
      title: 'Prompt With Arguments',
      description: 'A prompt with two required arguments',
      argsSchema: z.object({
        arg1: completable(z.string().describe('First test argument'), words),
        arg2: completable(z.string().describe('Second test argument'), words),
      }),
    },
    ({ arg1, arg2 }) => ({
      messages: [
        { role: 'user', content: { type: 'text', text: `Prompt with arguments: arg1='${arg1}', arg2='${arg2}'` } },
      ],
    }),
  );

  server.registerPrompt(
    'test_prompt_with_embedded_resource',
    {
      title: 'Prompt With Embedded Resource',
      description: 'A prompt that embeds the resource it is given',
      argsSchema: z.object({ resourceUri: z.string().describe('URI of the resource to embed') }),
    },
    ({ resourceUri }) => ({
      messages: [
        {
          role: 'user',
          content: {
            type: 'resource',
            resource: { uri: resourceUri, mimeType: 'text/plain', text: 'Embedded resource content for testing.' },
          },
        },
        { role: 'user', content: { type: 'text', text: 'Please process the embedded resource above.' } },
      ],
    }),
  );

  server.registerPrompt(
    'test_prompt_with_image',
    { title: 'Prompt With Image', description: 'A prompt that includes image content' },
    () => ({
      messages: [
        { role: 'user', content: { type: 'image', data: RED_PIXEL_PNG, mimeType: 'image/png' } },
        { role: 'user', content: { type: 'text', text: 'Please analyze the image above.' } },
      ],
    }),
  );
}
