export * from './fake-edge-tts.js';
export * from './fake-gemini.js';
export * from './processes.js';
export * from './redis.js';
export * from './rejection.js';
export * from './system.js';
export * from './tcp-proxy.js';
export * from './ws-client.js';
