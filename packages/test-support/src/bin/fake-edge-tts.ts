#!/usr/bin/env node
// A local Edge read-aloud WebSocket server for trying XiaoYue's speech path offline:
//   node packages/test-support/dist/bin/fake-edge-tts.js --port 8082
// then start the TTS worker with EDGE_TTS_URL set to the printed URL.
import { startFakeEdgeTts } from '../fake-edge-tts.js';
import { portArgument } from './args.js';

const fake = await startFakeEdgeTts({ port: portArgument(), host: '127.0.0.1' });
console.log(`fake-edge-tts listening on ${fake.url}`);
const stop = () => void fake.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
