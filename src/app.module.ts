import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { ALL_ENTITIES } from './app.entities';
import { ChatModule } from './chat/chat.module';
import { AgentModule } from './agent/agent.module';
import { BuiltinMcpServersModule } from './agent/mcp/builtin-mcp-servers.module';
import { AuthModule } from './auth/auth.module';
import { LifecycleModule } from './common/lifecycle/lifecycle.module';
import { MetricsModule } from './metrics/metrics.module';
import { ProblemDetailsFilter } from './common/problem/problem-details.filter';
import { StrictValidationPipe } from './common/validation/strict-validation.pipe';
import type { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { TasksMcpServer } from './tasks/tasks-mcp.server';
import { TasksModule } from './tasks/tasks.module';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LifecycleModule,
        MetricsModule,
        DatabaseModule.forRoot({ entities: ALL_ENTITIES }),
        AuthModule,
        AgentModule,
        BuiltinMcpServersModule.forRoot({ imports: [TasksModule], servers: [TasksMcpServer] }),
        HealthModule,
        ChatModule,
      ],
      providers: [
        { provide: APP_PIPE, useClass: StrictValidationPipe },
        { provide: APP_FILTER, useClass: ProblemDetailsFilter },
      ],
    };
  }
}
