export {};
export * from './redis.js';
