import { Get, Query } from '@nestjs/common';
import { ApiOperation } from '@nestjs/swagger';
import { UserScopedController } from '../auth/user-scoped-controller.decorator';
import type { AuthUser } from '../auth/auth-user';
import { CurrentUser } from '../auth/current-user.decorator';
import { NoQueryDto } from '../common/validation/no-query.dto';
import { McpServerStatusDto, ToolsDto } from './dto/tools.dto';
import type { McpServerStatus } from './mcp/mcp-client-registry';
import { ToolsOverviewService } from './tools/tools-overview.service';

@UserScopedController('tools', 'tools')
export class ToolsController {
  constructor(private readonly overview: ToolsOverviewService) {}

  @Get()
  @ApiOperation({ summary: 'The tools the user’s agent can call, and the state of each MCP server' })
  async list(@CurrentUser() user: AuthUser, @Query() _query: NoQueryDto): Promise<ToolsDto> {
    const { tools, servers } = await this.overview.forUser(user.userId);
    return {
      tools: tools.map(({ name, server, description }) => ({ name, server, description })),
      servers: servers.map(toServerStatusDto),
    };
  }
}

function toServerStatusDto({ name, state, tools, error }: McpServerStatus): McpServerStatusDto {
  return { name, status: state, tools, ...(error !== undefined && { error }) };
}
