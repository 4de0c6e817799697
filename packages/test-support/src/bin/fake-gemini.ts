#!/usr/bin/env node
// A local Gemini REST/SSE server for trying XiaoYue without a Gemini key:
//   node packages/test-support/dist/bin/fake-gemini.js --port 8081
// then start the agent worker with GEMINI_API_KEY=anything GEMINI_BASE_URL=http://127.0.0.1:8081
import { startFakeGemini } from '../fake-gemini.js';
import { portArgument } from './args.js';

const fake = await startFakeGemini({ port: portArgument(), host: '127.0.0.1' });
console.log(`fake-gemini listening on ${fake.url}`);
const stop = () => void fake.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
