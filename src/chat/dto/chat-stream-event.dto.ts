import type { Type } from '@nestjs/common';
import { ApiProperty, PickType } from '@nestjs/swagger';
import type { AgentEvent } from '../../agent/agent-turn';
import { ProblemDto } from '../../common/problem/problem.dto';
import { PendingApprovalDto } from '../approvals/dto/pending-approval.dto';
import { ChatTurnDto } from './chat-turn.dto';
import { ToolCallDto } from './message.dto';

export class TurnStartedDataDto {
  /** The turn: attach to it (`GET .../turns/{turn_id}/events`) or cancel it with this id. */
  @ApiProperty({ format: 'uuid' })
  turn_id: string;
  @ApiProperty({ format: 'uuid' })
  conversation_id: string;
  /** The user's message, stored before the model is called. */
  @ApiProperty({ format: 'uuid' })
  user_message_id: string;
}

export class TextDeltaDataDto {
  /** The next piece of the assistant's answer. */
  text: string;
}

export class ToolStartedDataDto extends PickType(ToolCallDto, ['id', 'tool', 'server', 'arguments'] as const) {}

export class ToolFinishedDataDto extends PickType(ToolCallDto, ['id', 'result', 'is_error'] as const) {}

/** The fields every Server-Sent Event of a turn has: its `id:` and `event:` lines, and its `data:` as JSON. */
function ChatStreamEvent<T>(event: string, data: Type<T>, description: string) {
  class ChatStreamEventDto {
    @ApiProperty({ enum: [event], description: 'The `event:` line.' })
    event: string;

    @ApiProperty({
      pattern: '^[1-9][0-9]*$',
      maxLength: 16,
      description:
        'The `id:` line: 1, 2, 3… within a turn, the same in every stream of it (resume after it with `Last-Event-ID`).',
    })
    id: string;

    @ApiProperty({ type: data, description })
    data: T;
  }
  return ChatStreamEventDto;
}

export class TurnStartedEventDto extends ChatStreamEvent(
  'turn.started',
  TurnStartedDataDto,
  'The turn began: the message is stored.',
) {}
export class TextDeltaEventDto extends ChatStreamEvent(
  'text.delta',
  TextDeltaDataDto,
  'Text as the model writes it.',
) {}
export class ToolStartedEventDto extends ChatStreamEvent(
  'tool.started',
  ToolStartedDataDto,
  'The agent calls a tool.',
) {}
export class ToolFinishedEventDto extends ChatStreamEvent(
  'tool.finished',
  ToolFinishedDataDto,
  'A tool call returned (`is_error` when the tool failed; the turn goes on).',
) {}
export class ApprovalRequiredEventDto extends ChatStreamEvent(
  'approval.required',
  PendingApprovalDto,
  'A tool call waits for the user’s decision; `turn.completed` (`stop_reason: "approval_required"`) follows.',
) {}
export class TurnCompletedEventDto extends ChatStreamEvent(
  'turn.completed',
  ChatTurnDto,
  'The last event of a turn that succeeded: the same body as the JSON answer.',
) {}
export class TurnFailedEventDto extends ChatStreamEvent(
  'turn.failed',
  ProblemDto,
  'The last event of a turn that failed: a problem object, with `turn_id`, `conversation_id` and `user_message_id`.',
) {}

/** Every event of a streamed turn, by its `event:` name. */
export const CHAT_STREAM_EVENTS = {
  'turn.started': TurnStartedEventDto,
  'text.delta': TextDeltaEventDto,
  'tool.started': ToolStartedEventDto,
  'tool.finished': ToolFinishedEventDto,
  'approval.required': ApprovalRequiredEventDto,
  'turn.completed': TurnCompletedEventDto,
  'turn.failed': TurnFailedEventDto,
} as const;

export type ChatStreamEventName = keyof typeof CHAT_STREAM_EVENTS;
export type ChatStreamData = { [E in ChatStreamEventName]: InstanceType<(typeof CHAT_STREAM_EVENTS)[E]>['data'] };

export type AgentEventData<T extends AgentEvent['type'] = AgentEvent['type']> = T extends AgentEvent['type']
  ? Omit<Extract<AgentEvent, { type: T }>, 'type'>
  : never;
type SameShape<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
// The agent's events are the source: fails to compile when a documented payload drifts or an event is undocumented.
const _agentEventsDocumented: { [T in AgentEvent['type']]: SameShape<ChatStreamData[T], AgentEventData<T>> } = {
  'text.delta': true,
  'tool.started': true,
  'tool.finished': true,
};
