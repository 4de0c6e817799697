export * from './answer.js';
export * from './cards.js';
export * from './grading.js';
export * from './learner-store.js';
export * from './profile.js';
export * from './reactions.js';
