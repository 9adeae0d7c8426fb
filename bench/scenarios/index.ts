import type { Scenario } from '../lib/stack';
import { s0FrameworkFloor } from './s0-framework-floor';
import { s1ChatTurn } from './s1-chat-turn';
import { s1lEventLog } from './s1l-event-log';
import { s2ToolCall } from './s2-tool-call';
import { s3Concurrency } from './s3-concurrency';
import { s4History } from './s4-history';
import { s5Growth } from './s5-growth';
import { s6Soak } from './s6-soak';
import { s7FirstToken } from './s7-first-token';
import { s8FanOut } from './s8-fan-out';

/** In the order `all` runs them: S1 before S6, which takes its rate from S1. */
export const SCENARIOS: Scenario[] = [
  s0FrameworkFloor,
  s1ChatTurn,
  s2ToolCall,
  s3Concurrency,
  s4History,
  s5Growth,
  s6Soak,
  s7FirstToken,
  s8FanOut,
  s1lEventLog,
];
