import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, getSchemaPath } from '@nestjs/swagger';
import { apiHeaders } from '../common/http/api-headers';
import { CHAT_STREAM_EVENTS } from './dto/chat-stream-event.dto';
import { ChatTurnDto } from './dto/chat-turn.dto';
import { EVENT_STREAM } from './sse/turn-streamer';

const events = Object.entries(CHAT_STREAM_EVENTS);

/** The union of a turn's Server-Sent Events, one schema per `event:` name. */
function turnEventSchema() {
  return {
    oneOf: events.map(([, model]) => ({ $ref: getSchemaPath(model) })),
    discriminator: {
      propertyName: 'event',
      mapping: Object.fromEntries(events.map(([name, model]) => [name, getSchemaPath(model)])),
    },
  };
}

/** Explicit: the handler may hand the reply to the stream, and the plugin does not infer a union return type. */
export function ApiChatTurnResponse(): MethodDecorator {
  return applyDecorators(
    ApiExtraModels(ChatTurnDto, ...events.map(([, model]) => model)),
    ApiOkResponse({
      description:
        'The turn’s answer (`application/json`), or with `Accept: text/event-stream` the turn as Server-Sent ' +
        'Events: the schema is that of one event, its `id:`, `event:` and `data:` (JSON) lines. The stream ' +
        'starts with `retry:` (CHAT_SSE_RETRY_MS, 3000 by default); `turn.started` comes first; `turn.completed` or `turn.failed` last.',
      headers: apiHeaders('RateLimit', 'RateLimit-Policy'),
      content: {
        'application/json': { schema: { $ref: getSchemaPath(ChatTurnDto) } },
        [EVENT_STREAM]: { schema: turnEventSchema() },
      },
    }),
  );
}

/** A route that only streams a turn's events. */
export function ApiTurnEventStream(description: string): MethodDecorator {
  return applyDecorators(
    ApiExtraModels(...events.map(([, model]) => model)),
    ApiOkResponse({
      description: `${description} The schema is that of one event: its \`id:\`, \`event:\` and \`data:\` (JSON) lines.`,
      content: { [EVENT_STREAM]: { schema: turnEventSchema() } },
    }),
  );
}
