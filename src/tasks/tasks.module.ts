import { Module } from '@nestjs/common';
import { RateLimitModule } from '../rate-limit/rate-limit.module';
import { McpHttpController } from './mcp-http.controller';
import { McpSessionStore } from './mcp-session-store';
import { TaskRepository } from './task.repository';
import { TasksMcpServer } from './tasks-mcp.server';

/** The user's to-do list as an MCP server: built into the agent, and served to outside clients on `/mcp`. */
@Module({
  imports: [RateLimitModule],
  controllers: [McpHttpController],
  providers: [TaskRepository, TasksMcpServer, { provide: McpSessionStore, useFactory: () => new McpSessionStore() }],
  exports: [TasksMcpServer],
})
export class TasksModule {}
