#!/usr/bin/env node
// Talk to XiaoYue in a terminal:  pnpm chat [user_id] [--url ws://host:port] [--save-audio DIR]
// Plain lines are chat messages; /help lists the commands. Piped input works too: each line is
// sent after the previous one is answered, and the client exits at the end of the input.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import WebSocket from 'ws';

const args = process.argv.slice(2);
const option = (name) => {
  const index = args.indexOf(name);
  if (index < 0) return undefined;
  const [, value] = args.splice(index, 2);
  return value;
};
const base = (option('--url') ?? process.env.XIAOYUE_URL ?? 'ws://localhost:8000').replace(/\/$/, '');
const audioDir = option('--save-audio');
const userId = args[0] ?? `cli-${Math.random().toString(36).slice(2, 8)}`;
const interactive = process.stdin.isTTY === true;
const tty = process.stdout.isTTY === true;
const paint = (code, text) => (tty ? `\x1b[${code}m${text}\x1b[0m` : text);

const HELP = `commands:
  /reset        start the conversation again
  /state        show the sulking level and the stored history
  /sulk N       set her sulking level (0-3)
  1, 2, 3…      answer the last quiz's current question by number
  /help, /quit`;

let socket;
let lastSeq;
let epoch;
let waiting = false; // a chat was sent and its reply has not come yet
let quiz = []; // questions of the last quiz not yet answered
let closing = false;
let retryMs = 500;
const pending = []; // piped lines waiting for their turn
let inputEnded = false;

function print(line = '') {
  process.stdout.write(`${line}\n`);
}

function showReply(data, seq) {
  print();
  print(`${paint('1;31', '小师妹')}  ${paint('1', data.chinese_content)}`);
  print(`        ${paint('32', data.pinyin)}`);
  print(`        ${paint('33', data.vietnamese_display)}`);
  const extras = [`emotion: ${data.emotion}`, `sulking: ${data.sulking_level}/3`];
  if (data.action && data.action !== 'none') extras.push(`action: ${data.action}`);
  if (data.fallback) extras.push('fallback line');
  if (data.audio_base64) {
    const audio = Buffer.from(data.audio_base64, 'base64');
    extras.push(`audio: ${audio.length} bytes`);
    if (audioDir) {
      mkdirSync(audioDir, { recursive: true });
      const file = join(audioDir, `${userId}-${seq ?? Date.now()}.mp3`);
      writeFileSync(file, audio);
      extras.push(`saved ${file}`);
    }
  } else if (data.audio_error) {
    extras.push(`no audio (${data.audio_error})`);
  }
  print(paint('2', `        ${extras.join(' · ')}`));
  quiz = Array.isArray(data.quiz_list) ? [...data.quiz_list] : [];
  showQuizQuestion();
}

function showQuizQuestion() {
  const [item] = quiz;
  if (!item) return;
  print(`  ${paint('1', `测验 ${item.question}`)}`);
  item.options.forEach((option, i) => print(`    ${i + 1}. ${option}`));
}

function onFrame(frame) {
  if (typeof frame.seq === 'number') {
    if (lastSeq !== undefined && frame.seq <= lastSeq) return;
    lastSeq = frame.seq;
  }
  const data = frame.data ?? {};
  switch (frame.type) {
    case 'welcome':
      lastSeq ??= data.last_seq;
      epoch = data.epoch ?? epoch;
      print(
        paint(
          '2',
          `connected as ${data.user_id}: sulking ${data.sulking_level}/3, ${data.history_length} turns stored${data.mode === 'offline' ? ', offline practice mode' : ''}`,
        ),
      );
      break;
    case 'typing':
      if (interactive) process.stdout.write(paint('2', '小师妹 is typing…\n'));
      break;
    case 'reply':
      showReply(data, frame.seq);
      waiting = false;
      break;
    case 'state':
      print(`sulking ${data.sulking_level}/3, ${data.history_length} turns:`);
      for (const turn of data.history ?? []) print(`  你: ${turn.user_message}\n  她: ${turn.chinese_content}`);
      break;
    case 'reset':
      print('conversation reset');
      break;
    case 'sulking_set':
      print(`sulking level is now ${data.sulking_level}`);
      break;
    case 'resync':
      lastSeq = data.last_seq;
      print(paint('2', `(some older messages are gone: ${data.reason})`));
      break;
    case 'error':
      print(paint('31', `error ${data.code}: ${data.message}`));
      if (data.code !== 'busy') waiting = false;
      break;
  }
  next();
}

function handleLine(raw) {
  const line = raw.trim();
  if (!line) return;
  if (line === '/quit' || line === '/exit') return quit();
  if (line === '/help') return print(HELP);
  if (line === '/reset') return send({ action: 'reset' });
  if (line === '/state') return send({ action: 'get_state' });
  const sulk = /^\/sulk\s+(\d)$/.exec(line);
  if (sulk) return send({ action: 'set_sulking', level: Number(sulk[1]) });
  if (line.startsWith('/')) return print(`unknown command ${line}\n${HELP}`);
  if (quiz.length > 0 && /^\d+$/.test(line)) {
    const item = quiz.shift();
    const chosen = item.options[Number(line) - 1];
    print(chosen === item.answer ? paint('32', '  对了！ Đúng rồi!') : paint('31', `  不对。 Sai rồi: ${item.answer}`));
    return showQuizQuestion();
  }
  waiting = true;
  send({ action: 'chat', message: line });
}

function send(frame) {
  if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
  else print(paint('31', 'not connected yet; try again in a moment'));
}

/** Piped input: one line at a time, each after the previous answer. */
function next() {
  if (interactive || waiting || socket?.readyState !== WebSocket.OPEN) return;
  const line = pending.shift();
  if (line !== undefined) {
    handleLine(line);
    // Commands answer at once; give their answer a moment before the next line.
    if (!waiting) setTimeout(next, 150);
  } else if (inputEnded) {
    quit();
  }
}

function quit() {
  closing = true;
  socket?.close();
  setTimeout(() => process.exit(0), 100);
}

function connect() {
  const query = lastSeq !== undefined ? `?last_seq=${lastSeq}${epoch ? `&epoch=${epoch}` : ''}` : '';
  socket = new WebSocket(`${base}/ws/chat/${encodeURIComponent(userId)}${query}`);
  socket.on('open', () => {
    retryMs = 500;
    setTimeout(next, 50);
  });
  socket.on('message', (data) => {
    try {
      onFrame(JSON.parse(data.toString()));
    } catch (error) {
      print(paint('31', `unreadable frame: ${error.message}`));
    }
  });
  socket.on('error', (error) => {
    if (!closing && retryMs === 500) print(paint('31', `cannot reach ${base}: ${error.message}`));
  });
  socket.on('close', (code, reason) => {
    if (closing) return;
    if (code === 1008) {
      print(paint('31', `refused: ${reason}`));
      process.exit(1);
    }
    print(paint('2', `connection lost (${code}); reconnecting…`));
    setTimeout(connect, retryMs);
    retryMs = Math.min(retryMs * 2, 10_000);
  });
}

print(paint('1', `XiaoYue 小师妹 · ${base} · user ${userId}`) + (interactive ? `  (/help for commands)` : ''));
const input = createInterface({ input: process.stdin, terminal: interactive });
input.on('line', (line) => {
  if (interactive) handleLine(line);
  else {
    pending.push(line);
    next();
  }
});
input.on('close', () => {
  inputEnded = true;
  if (interactive) quit();
  else next();
});
connect();
