import { Inject, Injectable } from '@nestjs/common';
import { MCP_SERVER_DEFINITIONS, type ApprovalRequirement, type McpServerDefinition } from './mcp-server-definition';

/**
 * Which tool calls wait for the user's approval (SPEC §5.3): what the operator configured per server in
 * `require_approval`, and nothing else — a server's own annotations (`destructiveHint`) are its claims.
 */
@Injectable()
export class ApprovalPolicy {
  private readonly requirements: ReadonlyMap<string, ApprovalRequirement>;

  constructor(
    @Inject(MCP_SERVER_DEFINITIONS) definitions: readonly Pick<McpServerDefinition, 'name' | 'requireApproval'>[],
  ) {
    this.requirements = new Map(
      definitions.map((definition) => [definition.name, definition.requireApproval ?? 'never']),
    );
  }

  /** `tool` is the server's own name of it, not the name the model was offered (which may carry a prefix). */
  needsApproval(server: string, tool: string): boolean {
    const requirement = this.requirements.get(server) ?? 'never';
    if (typeof requirement !== 'string') return requirement.tools.includes(tool);
    return requirement === 'always';
  }
}
