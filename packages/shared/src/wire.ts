import type { eventCatalog, ServerEventType } from './events.js';
import type { ClientAction } from './protocol.js';

// What a client needs at run time from the catalogs, with no runtime imports: the client bundles
// this module for browsers (package export `./wire`), where zod and Redis code must not go.

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
  get_voices: 'voices',
  set_voice: 'voice_set',
} as const satisfies Record<ClientAction, ServerEventType>;

type Catalog = typeof eventCatalog;
type TurnEndType = { [T in ServerEventType]: Catalog[T] extends { endsTurn: true } ? T : never }[ServerEventType];

/** The events that end a learner's turn: exactly the catalog's `endsTurn` (checked by the compiler). */
export const TURN_END_EVENTS = ['reply', 'reply_done'] as const satisfies readonly TurnEndType[];
// ...and none of them is missing from it.
type Assert<T extends true> = T;
type TurnEndsAllListed = Assert<
  [Exclude<TurnEndType, (typeof TURN_END_EVENTS)[number]>] extends [never] ? true : false
>;
