#!/usr/bin/env node
// A local OpenAI-compatible chat completions server for trying XiaoYue without a model:
//   node packages/test-support/dist/bin/fake-openai.js --port 8083
// then start the agent worker with LLM_PROVIDER=openai OPENAI_BASE_URL=http://127.0.0.1:8083/v1 OPENAI_MODEL=fake-chat-1
import { startFakeOpenAi } from '../fake-openai.js';
import { portArgument } from './args.js';

const fake = await startFakeOpenAi({ port: portArgument(), host: '127.0.0.1' });
console.log(`fake-openai listening on ${fake.url}`);
const stop = () => void fake.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
