#!/usr/bin/env node
// Talk to XiaoYue in a terminal:  pnpm chat [user_id] [--url ws://host:port] [--save-audio DIR]
// Plain lines are chat messages; /help lists the commands. Piped input works too: each line is
// sent after the previous one is answered, and the client exits at the end of the input.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { XiaoYueClient, XiaoYueError } from '@xiaoyue/client';
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
  /slow         hear her last line again, slowly (saved too with --save-audio)
quizzes (her questions come one at a time; the server grades your answers):
  1, 2, 3…      answer a multiple-choice question with that option
  /a ANSWER     answer in words: fill-in and translation questions (or a choice, by its text)
  /skip         leave the current question unanswered and go to the next
  /quiz         show the current question again
  /review       a quiz of your past mistakes that are due for review
  /progress     your level, review cards, quiz accuracy, streak and words met
  /level N      set your HSK level (1-6): she keeps her Chinese at that level
  /help, /quit`;

let quiz = []; // questions of the last quiz not yet answered (the first is the current one)
let lastTurnId; // her last line, for /slow
let closing = false;
const pending = []; // piped lines waiting for their turn
let inputEnded = false;
/** A piped line is being answered: the next one waits. */
let busyWithLine = false;
/** Reconnect attempts since the last welcome (only the first failure to connect is reported). */
let attempt = 0;

/** A request other than a chat gives up waiting after this long (piped input goes on). */
const REQUEST_TIMEOUT_MS = 30_000;

const client = new XiaoYueClient({ url: base, userId, WebSocket, requestTimeoutMs: REQUEST_TIMEOUT_MS });

function print(line = '') {
  process.stdout.write(`${line}\n`);
}

/** Her pinyin: the reply's trusted reading, or its word-by-word tokens joined. */
function pinyinOf(data) {
  if (data.pinyin) return data.pinyin;
  return (data.pinyin_tokens ?? [])
    .map((t) => t.pinyin || t.hanzi)
    .join(' ')
    .replace(/ ([，。！？、：；,.!?:;])/g, '$1');
}

/** One line of hers: Chinese, pinyin, Vietnamese. */
function showLine(data, indent = '') {
  print(`${indent}${paint('1;31', '小师妹')}  ${paint('1', data.chinese_content)}`);
  print(`${indent}        ${paint('32', pinyinOf(data))}`);
  print(`${indent}        ${paint('33', data.vietnamese_display)}`);
}

function saveAudio(base64, name) {
  const audio = Buffer.from(base64, 'base64');
  if (!audioDir) return { bytes: audio.length };
  mkdirSync(audioDir, { recursive: true });
  const file = join(audioDir, `${name}.mp3`);
  writeFileSync(file, audio);
  return { bytes: audio.length, file };
}

function showReply(data, seq) {
  print();
  showLine(data);
  const extras = [`emotion: ${data.emotion}`, `sulking: ${data.sulking_level}/3`];
  if (data.action && data.action !== 'none') extras.push(`action: ${data.action}`);
  if (data.fallback) extras.push('fallback line');
  if (data.audio_base64) {
    const saved = saveAudio(data.audio_base64, `${userId}-${seq ?? Date.now()}`);
    extras.push(`audio: ${saved.bytes} bytes`);
    if (saved.file) extras.push(`saved ${saved.file}`);
  } else if (data.audio_error) {
    extras.push(`no audio: ${data.audio_error_code ?? 'error'} (${data.audio_error})`);
  }
  print(paint('2', `        ${extras.join(' · ')}`));
  if (data.turn_id) lastTurnId = data.turn_id;
  quiz = Array.isArray(data.quiz_list) ? data.quiz_list.filter((item) => item.id) : [];
  showQuizQuestion();
}

function showQuizQuestion() {
  const [item] = quiz;
  if (!item) return;
  const tag = item.review ? paint('36', '[ôn lại] ') : '';
  print(`  ${tag}${paint('1', `测验 ${item.question}`)}`);
  const options = item.type === 'choice' ? (item.options ?? []) : [];
  options.forEach((option, i) => print(`    ${i + 1}. ${option}`));
  if (item.hint) print(paint('2', `    hint: ${item.hint}`));
  print(
    paint(
      '2',
      options.length
        ? `    (answer 1-${options.length}, /a TEXT, or /skip)`
        : `    (${item.type === 'translate' ? 'translate it' : 'fill it in'}: /a YOUR ANSWER, or /skip)`,
    ),
  );
}

function showQuizResult(data) {
  const [current] = quiz;
  if (current?.id === data.quiz_id) quiz.shift();
  print(
    data.correct
      ? paint('32', `  ✓ 对了！ Đúng rồi!  (${data.answer})`)
      : paint('31', `  ✗ 不对。 Sai rồi: you said “${data.answer}”, expected “${data.expected}”`),
  );
  if (data.explanation) print(`    ${data.explanation}`);
  if (data.reaction?.chinese_content) showLine(data.reaction, '  ');
  if (!data.correct && data.card?.due_at) {
    print(paint('2', `    (a review card: back on ${new Date(data.card.due_at).toLocaleString()}, see /review)`));
  }
  if (quiz.length) showQuizQuestion();
  else if (current) print(paint('2', '  (quiz done: /progress shows your scores)'));
}

function showReview(data) {
  print();
  showLine(data);
  quiz = Array.isArray(data.quiz_list) ? data.quiz_list.filter((item) => item.id) : [];
  if (quiz.length) {
    print(paint('2', `        ${data.due} card${data.due === 1 ? '' : 's'} due; ${quiz.length} asked now`));
    showQuizQuestion();
  } else {
    const next = data.next_due_at ? `; next review ${new Date(data.next_due_at).toLocaleString()}` : '';
    print(paint('2', `        nothing to review now${next}`));
  }
}

function showProgress(data) {
  const accuracy = data.quiz_answered ? ` (${Math.round(data.quiz_accuracy * 100)}%)` : '';
  print(
    `progress: HSK level ${data.level} · review cards ${data.cards_total} (${data.cards_due} due, ${data.cards_learned} learned)` +
      ` · quizzes ${data.quiz_correct}/${data.quiz_answered} right${accuracy}` +
      ` · streak ${data.streak_days} day${data.streak_days === 1 ? '' : 's'} · words met ${data.words_met}`,
  );
  const profile = data.profile ?? {};
  const about = [];
  if (profile.name) about.push(`name: ${profile.name}`);
  if (profile.interests?.length) about.push(`interests: ${profile.interests.join(', ')}`);
  if (data.next_due_at && !data.cards_due) about.push(`next review: ${new Date(data.next_due_at).toLocaleString()}`);
  if (about.length) print(`  ${about.join(' · ')}`);
  const mistakes = (profile.mistakes ?? []).slice(0, 5);
  if (mistakes.length)
    print(`  frequent mistakes: ${mistakes.map((m) => `${m.wrong} → ${m.right} (×${m.count})`).join('; ')}`);
}

function showReplay(data) {
  if (data.audio_base64) {
    const saved = saveAudio(data.audio_base64, `${userId}-${data.turn_id}-${data.rate}`);
    print(
      paint(
        '2',
        `  🐢 ${data.chinese_content} · replay (${data.rate}): ${saved.bytes} bytes${saved.file ? ` · saved ${saved.file}` : ''}`,
      ),
    );
  } else {
    print(
      paint(
        '31',
        `  🐢 replay failed: ${data.audio_error_code ?? 'no audio'}${data.audio_error ? ` (${data.audio_error})` : ''}`,
      ),
    );
  }
}

client.on('welcome', (data) => {
  attempt = 0;
  print(
    paint(
      '2',
      `connected as ${data.user_id}: sulking ${data.sulking_level}/3, ${data.history_length} turns stored${data.mode === 'offline' ? ', offline practice mode' : ''}`,
    ),
  );
  setTimeout(next, 50);
});
client.on('typing', () => {
  if (interactive) process.stdout.write(paint('2', '小师妹 is typing…\n'));
});
client.on('reply', (data, frame) => showReply(data, frame.seq));
client.on('quiz_result', showQuizResult);
client.on('review', showReview);
client.on('progress', showProgress);
client.on('progress_cleared', showProgress);
client.on('level_set', (data) => print(`HSK level is now ${data.level}`));
client.on('replay_audio', showReplay);
client.on('state', (data) => {
  print(`sulking ${data.sulking_level}/3, ${data.history_length} turns:`);
  for (const turn of data.history) print(`  你: ${turn.user_message}\n  她: ${turn.chinese_content}`);
});
client.on('reset', () => print('conversation reset'));
client.on('sulking_set', (data) => print(`sulking level is now ${data.sulking_level}`));
client.on('resync', (data) => print(paint('2', `(some older messages are gone: ${data.reason})`)));
client.on('error', (data) => print(paint('31', `error ${data.code}: ${data.message}`)));
client.on('transport_error', (error) => {
  if (error.message.startsWith('unreadable frame')) print(paint('31', error.message));
  else if (!closing && attempt === 0) print(paint('31', `cannot reach ${base}: ${error.message}`));
});
client.on('reconnecting', (info) => {
  attempt = info.attempt;
});
client.on('close', ({ code, reason, status, willReconnect }) => {
  if (closing) return;
  if (code === 1008 || [400, 401, 403].includes(status)) {
    print(paint('31', `refused: ${status ? `HTTP ${status}` : reason}`));
    process.exit(1);
  }
  if (willReconnect) print(paint('2', `connection lost (${code}); reconnecting…`));
});

/**
 * Sends an action and waits for its answer (a chat: for her reply). What comes back is printed by
 * the listeners above; here only what the client gave up on.
 */
async function ask(frame) {
  if (!client.connected) return print(paint('31', 'not connected yet; try again in a moment'));
  try {
    if (frame.action === 'chat') await (await client.chat(frame.message)).reply;
    else await client.request(frame);
  } catch (error) {
    if (!(error instanceof XiaoYueError)) throw error;
    if (error.code === 'timeout') print(paint('2', `(${error.message}; going on)`));
    if (error.code === 'disconnected') print(paint('2', '(the connection dropped before the answer; going on)'));
    if (frame.action === 'answer' && (error.code === 'already_answered' || error.code === 'unknown_quiz')) {
      // That question cannot be answered any more: on to the next.
      if (quiz[0]?.id === frame.quiz_id) quiz.shift();
      showQuizQuestion();
    }
  }
}

function answer(text) {
  const [item] = quiz;
  if (!item) return print('no open quiz question (ask her: 考考我, or /review)');
  return ask({ action: 'answer', quiz_id: item.id, answer: text });
}

function handleLine(raw) {
  const line = raw.trim();
  if (!line) return;
  if (line === '/quit' || line === '/exit') return quit();
  if (line === '/help') return print(HELP);
  if (line === '/reset') return ask({ action: 'reset' });
  if (line === '/state') return ask({ action: 'get_state' });
  if (line === '/review') return ask({ action: 'review' });
  if (line === '/progress') return ask({ action: 'get_progress' });
  if (line === '/quiz') return quiz.length ? showQuizQuestion() : print('no open quiz question');
  if (line === '/skip') {
    if (!quiz.shift()) return print('no open quiz question');
    return quiz.length ? showQuizQuestion() : print(paint('2', '  (no more questions)'));
  }
  if (line === '/slow') {
    if (!lastTurnId) return print('she has not said anything yet');
    return ask({ action: 'replay', turn_id: lastTurnId, rate: 'slow' });
  }
  const sulk = /^\/sulk\s+(\d)$/.exec(line);
  if (sulk) return ask({ action: 'set_sulking', level: Number(sulk[1]) });
  const level = /^\/level\s+(\d)$/.exec(line);
  if (level) return ask({ action: 'set_level', level: Number(level[1]) });
  const typed = /^\/a(?:nswer)?\s+(.+)$/.exec(line);
  if (typed) return answer(typed[1].trim());
  if (line.startsWith('/')) return print(`unknown command ${line}\n${HELP}`);
  const [item] = quiz;
  if (item && /^\d+$/.test(line)) {
    const options = item.type === 'choice' ? (item.options ?? []) : [];
    const chosen = options[Number(line) - 1];
    if (chosen === undefined) {
      return print(options.length ? `choose 1-${options.length}` : 'this question wants words: /a YOUR ANSWER');
    }
    return answer(chosen);
  }
  return ask({ action: 'chat', message: line });
}

/** Piped input: one line at a time, each after the previous answer. */
async function next() {
  if (interactive || busyWithLine || !client.connected) return;
  const line = pending.shift();
  if (line === undefined) {
    if (inputEnded) quit();
    return;
  }
  busyWithLine = true;
  try {
    await handleLine(line);
  } finally {
    busyWithLine = false;
  }
  next();
}

function quit() {
  closing = true;
  client.close();
  setTimeout(() => process.exit(0), 100);
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
client.connect().catch(() => {}); // a refusal is reported by the close listener
