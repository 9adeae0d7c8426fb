import { ApiProperty } from '@nestjs/swagger';

export class ToolDto {
  /** The name the model calls it by: the tool's own, or `<server>__<tool>` when two servers offer that name. */
  name: string;
  /** The MCP server that provides it. */
  server: string;
  description: string;
}

export class McpServerStatusDto {
  name: string;
  /** `failed` servers are retried in the background; only their own tools are missing meanwhile. */
  @ApiProperty({ enum: ['connected', 'connecting', 'failed'] })
  status: 'connected' | 'connecting' | 'failed';
  /** How many of its tools are offered. */
  @ApiProperty({ type: 'integer', format: 'int32', minimum: 0 })
  tools: number;
  /** Why it is not connected (never a header value or an environment variable). */
  error?: string;
}

export class ToolsDto {
  /** The tools the agent is offered in this user's turns. */
  tools: ToolDto[];
  /** Every configured MCP server. */
  servers: McpServerStatusDto[];
}
