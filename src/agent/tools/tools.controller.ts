import { Get, Query } from '@nestjs/common';
import { ApiOperation } from '@nestjs/swagger';
import { UserScopedController } from '../../auth/user-scoped-controller.decorator';
import type { AuthUser } from '../../auth/auth-user';
import { CurrentUser } from '../../auth/current-user.decorator';
import { NoQueryDto } from '../../common/validation/no-query.dto';
import { McpServerStatusDto, ToolsDto } from './dto/tools.dto';
import type { McpServerStatus } from '../mcp/mcp.types';
import { ToolsOverviewService } from './tools-overview.service';

@UserScopedController('tools', 'tools')
export class ToolsController {
  constructor(private readonly overview: ToolsOverviewService) {}

  @Get()
  @ApiOperation({
    operationId: 'listTools',
    summary: 'The tools the user’s agent can call, and the state of each MCP server',
    description:
      'The tools offered to the model in this user’s turns (name, server, description), and the connection state of ' +
      'every configured MCP server; a failed server is retried in the background.',
  })
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
