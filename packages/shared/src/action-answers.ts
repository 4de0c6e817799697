import type { ServerEventType } from './events.js';
import type { ClientAction } from './protocol.js';

// No runtime imports: the client bundles this table for browsers (package export `./action-answers`).

/** What answers each action: the event with the action's `request_id` (or an `error`). */
export const actionAnswers = {
  chat: 'typing',
  reset: 'reset',
  get_state: 'state',
  set_sulking: 'sulking_set',
  answer: 'quiz_result',
  review: 'review',
  get_progress: 'progress',
  set_level: 'level_set',
  clear_progress: 'progress_cleared',
  replay: 'replay_audio',
} as const satisfies Record<ClientAction, ServerEventType>;
