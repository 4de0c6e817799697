import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  type FakeEdgeTts,
  type FakeGemini,
  repoRoot,
  startFakeEdgeTts,
  startFakeGemini,
  startTestRedis,
  type TestRedis,
} from '@xiaoyue/test-support';
import { type Browser, chromium, type Locator, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSystem, startSystem } from './system.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);

let redis: TestRedis;
let browser: Browser;
/** Uncaught errors of the page's script, and errors it logs (e.g. an invalid `pattern`): none are expected. */
const pageErrors: string[] = [];

async function openPage(): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 900, height: 1100 } });
  page.on('pageerror', (error) => void pageErrors.push(String(error)));
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(`console: ${message.text()}`);
  });
  // Keeps the page's sockets within reach of the tests (`dropConnection`, `openedSockets`),
  // without reaching into its script.
  await page.addInitScript(() => {
    const sockets: { socket: WebSocket; protocols: string[] }[] = [];
    window.WebSocket = class extends window.WebSocket {
      constructor(url: string | URL, protocols?: string | string[]) {
        super(url, protocols);
        sockets.push({ socket: this, protocols: protocols === undefined ? [] : [protocols].flat() });
      }
    };
    Object.assign(window, {
      dropSockets: () => sockets.forEach(({ socket }) => socket.close()),
      openedSockets: () =>
        sockets.map(({ socket, protocols }) => ({ url: socket.url, protocols, accepted: socket.protocol })),
    });
  });
  return page;
}

/** The sockets the page opened: their URL, the subprotocols offered, and the one the server accepted. */
function openedSockets(page: Page): Promise<{ url: string; protocols: string[]; accepted: string }[]> {
  return page.evaluate(() => (window as unknown as { openedSockets(): never }).openedSockets());
}

/** Closes the page's socket under its client, as a lost connection would. */
async function dropConnection(page: Page): Promise<void> {
  await page.evaluate(() => (window as unknown as { dropSockets(): void }).dropSockets());
}

/** Whether each of the page's audio elements is paused, in document order. */
function pausedStates(page: Page): Promise<boolean[]> {
  return page.evaluate(() => [...document.querySelectorAll('audio')].map((audio) => audio.paused));
}

/** Waits until an audio element plays (true), or gives up after `timeoutMs` (false). */
function startsPlaying(audio: Locator, timeoutMs = 10_000): Promise<boolean> {
  return audio.evaluate(
    (element: HTMLAudioElement, ms) =>
      new Promise<boolean>((resolve) => {
        if (!element.paused && element.currentTime > 0) resolve(true);
        element.addEventListener('timeupdate', () => element.currentTime > 0 && resolve(true));
        setTimeout(() => resolve(!element.paused), ms);
      }),
    timeoutMs,
  );
}

/** Waits until an audio element has played to its end. */
function playsToTheEnd(audio: Locator, timeoutMs = 30_000): Promise<boolean> {
  return audio.evaluate(
    (element: HTMLAudioElement, ms) =>
      new Promise<boolean>((resolve) => {
        if (element.ended) resolve(true);
        element.addEventListener('ended', () => resolve(true));
        setTimeout(() => resolve(element.ended), ms);
      }),
    timeoutMs,
  );
}

/**
 * Records, from now on, each character of her lines that lights up (gets `speaking`): where it
 * sits in the line, its element, and which line (the row's turn id). Read with `lightsSeen`.
 */
async function recordLights(page: Page): Promise<void> {
  await page.evaluate(() => {
    const seen: { start: number; tag: string; turn: string }[] = [];
    Object.assign(window, { lightsSeen: seen });
    new MutationObserver((mutations) => {
      for (const mutation of mutations) {
        const target = mutation.target as HTMLElement;
        if (mutation.attributeName !== 'class' || !target.classList.contains('speaking')) continue;
        if (mutation.oldValue?.split(' ').includes('speaking')) continue;
        seen.push({
          start: Number(target.dataset.start),
          tag: target.tagName.toLowerCase(),
          turn: target.closest<HTMLElement>('.msg')?.dataset.turnId ?? '',
        });
      }
    }).observe(document.body, { subtree: true, attributes: true, attributeFilter: ['class'], attributeOldValue: true });
  });
}

function lightsSeen(page: Page): Promise<{ start: number; tag: string; turn: string }[]> {
  return page.evaluate(() => (window as unknown as { lightsSeen: never }).lightsSeen);
}

/**
 * Lights of one line, in the order they first came on: always forward, over several characters.
 * (A word lights its characters together; played on after a pause, the word it stopped at lights again.)
 */
function expectLitInOrder(lights: { start: number; tag: string }[], minimum: number): void {
  const starts = [...new Set(lights.map((light) => light.start))];
  expect(new Set(starts).size).toBeGreaterThanOrEqual(minimum);
  expect(starts).toEqual([...starts].sort((a, b) => a - b));
  expect(lights.some((light) => light.tag === 'ruby')).toBe(true); // the pinyin lights up with its character
}

/** WCAG contrast ratio of two opaque CSS colors (`rgb(r, g, b)`). */
function contrast(a: string, b: string): number {
  const luminance = (color: string) => {
    const [r = 0, g = 0, b = 0] = (color.match(/\d+(\.\d+)?/g) ?? []).map(Number).map((channel) => {
      const c = channel / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (light + 0.05) / (dark + 0.05);
}

/** How long an audio element's media lasts once loaded (-1 if it cannot be decoded). */
function audioDuration(audio: Locator): Promise<number> {
  return audio.evaluate(
    (element: HTMLAudioElement) =>
      new Promise<number>((resolve) => {
        if (element.readyState >= 1) resolve(element.duration);
        element.onloadedmetadata = () => resolve(element.duration);
        element.onerror = () => resolve(-1);
      }),
  );
}

describe.skipIf(!hasChromium)('the web page, in headless Chromium (apt package chromium)', () => {
  beforeAll(async () => {
    redis = await startTestRedis();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await redis?.stop();
  });
  afterEach(() => {
    expect(pageErrors.splice(0)).toEqual([]);
  });

  describe('with the offline tutor', () => {
    let system: RunningSystem;
    let page: Page;
    beforeAll(async () => {
      system = await startSystem({ redisUrl: redis.url });
      page = await openPage();
    });
    afterAll(async () => {
      await page?.close();
      await system?.stop();
    });

    it('connects and shows the offline badge', async () => {
      await page.goto(`${system.probes.gateway}/?user=web-tester&autoconnect`);
      await page.getByText('đã kết nối').waitFor();
      expect(await page.locator('#mode').isVisible()).toBe(true);
    });

    it('chats: her Chinese with ruby pinyin, Vietnamese, emotion and a playable voice', async () => {
      await page.fill('#message', '你好');
      await page.press('#message', 'Enter');
      const reply = page.locator('.msg.her').last();
      const zh = reply.locator('.zh[data-text^="师兄好"]');
      await zh.waitFor();
      // Each character carries its reading; punctuation stays plain text.
      expect((await zh.locator('rt').allInnerTexts()).slice(0, 3)).toEqual(['shī', 'xiōng', 'hǎo']);
      expect(await zh.locator('ruby', { hasText: '好' }).first().locator('rt').innerText()).toBe('hǎo');
      expect(await zh.locator('ruby', { hasText: '！' }).count()).toBe(0);
      expect(await zh.getAttribute('title')).toMatch(/^Shī xiōng hǎo!/);
      expect(await reply.locator('.vi').innerText()).toMatch(/sư huynh/);
      expect(await reply.locator('.emotion').innerText()).toMatch(/vui/);
      expect(await audioDuration(reply.locator('audio.voice'))).toBeGreaterThan(0.3);
    });

    it('replays her line slowly with the 🐢 button', async () => {
      const reply = page.locator('.msg.her').last();
      const normal = await audioDuration(reply.locator('audio.voice'));
      await reply.locator('button.slow').click();
      const replay = reply.locator('audio.replay');
      await replay.waitFor({ state: 'attached', timeout: 10_000 });
      expect(await replay.getAttribute('data-rate')).toBe('slow');
      expect(await audioDuration(replay)).toBeGreaterThan(normal);
      expect(await reply.locator('button.slow').isEnabled()).toBe(true);
    });

    it('hides and shows the pinyin', async () => {
      const reading = page.locator('.msg.her .zh rt').first();
      await page.click('#toggle-pinyin');
      expect(await reading.isVisible()).toBe(false);
      await page.click('#toggle-pinyin');
      expect(await reading.isVisible()).toBe(true);
    });

    it('reconnects after a drop and shows a reply it missed, once', async () => {
      const before = await page.locator('.msg.her').count();
      await dropConnection(page);
      // While the page is away, the same learner talks from another device.
      const phone = await system.connect('web-tester');
      await phone.next('welcome');
      phone.send({ action: 'chat', message: '谢谢' });
      await phone.next('reply');
      phone.close();
      await page.locator('.msg.her .zh[data-text*="不客气"]').waitFor({ timeout: 10_000 });
      await page.getByText('đã kết nối').waitFor();
      await page.waitForTimeout(500);
      expect(await page.locator('.msg.her').count()).toBe(before + 1);
      mkdirSync(join(repoRoot, 'test-results'), { recursive: true });
      await page.screenshot({ path: join(repoRoot, 'test-results', 'web-page.png'), fullPage: true });
    });

    it('after a reload, resumes where it stopped (localStorage): shows what came meanwhile, once', async () => {
      const lastSeq = () => page.evaluate(() => localStorage.getItem('xiaoyue:last_seq:web-tester'));
      const epoch = () => page.evaluate(() => localStorage.getItem('xiaoyue:epoch:web-tester'));
      const shownSeq = Number(await lastSeq());
      expect(shownSeq).toBeGreaterThan(0);
      const shownEpoch = await epoch();
      expect(shownEpoch).toMatch(/.+/);
      await page.goto('about:blank');
      // Away from the page, the learner talks on the phone.
      const phone = await system.connect('web-tester');
      await phone.next('welcome');
      phone.send({ action: 'chat', message: '早上好' });
      const reply = await phone.next('reply');
      phone.close();

      const socket = page.waitForEvent('websocket');
      await page.goto(`${system.probes.gateway}/`); // the name kept in localStorage connects by itself
      expect(new URL((await socket).url()).search).toBe(`?last_seq=${shownSeq}&epoch=${shownEpoch}`);
      await page.locator(`.msg.her[data-turn-id="${reply.data.turn_id}"] .zh[data-text*="早"]`).waitFor();
      await page.getByText('đã kết nối').waitFor();
      await page.waitForTimeout(500);
      // Only the reply it missed: the ones shown before the reload are not replayed.
      expect(await page.locator('.msg.her').count()).toBe(1);
      expect(Number(await lastSeq())).toBe(reply.seq);
      expect(await epoch()).toBe(shownEpoch);

      // And a drop right after: nothing shown again.
      await dropConnection(page);
      await page.getByText('mất kết nối…').waitFor();
      await page.getByText('đã kết nối').waitFor();
      await page.waitForTimeout(300);
      expect(await page.locator('.msg.her').count()).toBe(1);
    });

    it('sends a token from the address as a subprotocol, never in a URL', async () => {
      const tab = await openPage();
      try {
        await tab.goto(`${system.probes.gateway}/?user=web-token&token=a.b.c&autoconnect`);
        await tab.getByText('đã kết nối').waitFor();
        expect(new URL(tab.url()).searchParams.has('token')).toBe(false);
        const [socket, ...others] = await openedSockets(tab);
        expect(others).toEqual([]);
        expect(socket).toMatchObject({ protocols: ['bearer', 'a.b.c'], accepted: 'bearer' });
        expect(socket?.url).not.toContain('a.b.c');
      } finally {
        await tab.close();
      }
    });

    it('sets her sulking level and reads the state back, as the server answers', async () => {
      await page.selectOption('#sulk-level', '2');
      await page.click('#set-sulk');
      await page.locator('.system', { hasText: 'Mức giận đặt thành 2.' }).waitFor();
      expect(await page.locator('#sulk').getAttribute('data-level')).toBe('2');
      await page.click('button[data-action="get_state"]');
      await page.locator('.system', { hasText: 'Trạng thái: giận 2/3' }).waitFor();
    });

    describe('a newcomer, who opens the page and presses nothing', () => {
      let tab: Page;
      /** HTTP answers of 400 and more the tab got (a missing favicon…). */
      const failed: string[] = [];
      const replies = () => tab.locator('.msg.her');
      beforeAll(async () => {
        tab = await openPage();
        tab.on('response', (response) => {
          if (response.status() >= 400) failed.push(`${response.status()} ${response.url()}`);
        });
      });
      afterAll(async () => {
        await tab?.close();
      });

      it('is connected at once under a new name, greeted, and offered first messages', async () => {
        await tab.goto(`${system.probes.gateway}/`);
        await tab.getByText('đã kết nối').waitFor();
        const name = await tab.inputValue('#user');
        expect(name).toMatch(/^shixiong-\d{4}$/);
        expect(await tab.evaluate(() => localStorage.getItem('xiaoyue:user'))).toBe(name);
        expect(await tab.locator('#message').isEnabled()).toBe(true);
        expect(await tab.locator('#user').evaluate((input: HTMLInputElement) => input.checkValidity())).toBe(true);

        const intro = tab.locator('.msg.intro');
        expect(await intro.locator('.zh').getAttribute('data-text')).toMatch(/^师兄好！我是小师妹/);
        expect((await intro.locator('rt').allInnerTexts()).slice(0, 3)).toEqual(['shī', 'xiōng', 'hǎo']);
        expect(await intro.locator('.vi').innerText()).toMatch(/sư huynh/);
        expect(await intro.locator('.hint-line').innerText()).toMatch(/offline/);
        const chips = intro.locator('button.chip');
        expect(await chips.count()).toBeGreaterThanOrEqual(2);
        expect(
          await chips.evaluateAll((buttons: HTMLButtonElement[]) => buttons.map((b) => b.dataset.message)),
        ).toEqual(['你好！', '我想学习汉语', '考考我']);
        expect(await chips.first().isEnabled()).toBe(true);
        expect(await tab.locator('#history').innerText()).toBe('0 lượt');
        expect(await replies().count()).toBe(0);
      });

      it('has an icon, and nothing it asked for is missing', async () => {
        const href = await tab.locator('link[rel="icon"]').getAttribute('href');
        expect(href).toMatch(/^data:image\/svg\+xml,/);
        const width = await tab.evaluate(
          (src) =>
            new Promise<number>((resolve) => {
              const image = new Image();
              image.onload = () => resolve(image.naturalWidth);
              image.onerror = () => resolve(-1);
              image.src = src;
            }),
          href ?? '',
        );
        expect(width).toBeGreaterThan(0);
        expect(failed).toEqual([]);
      });

      it('keeps its primary buttons readable under the pointer', async () => {
        for (const button of [tab.locator('#send'), tab.locator('#who button')]) {
          await button.hover();
          await tab.waitForTimeout(100);
          const [text, background] = await button.evaluate((element) => {
            const style = getComputedStyle(element);
            return [style.color, style.backgroundColor];
          });
          expect(contrast(text, background)).toBeGreaterThan(7);
        }
        await tab.mouse.move(0, 0);
      });

      it('sends a suggestion with a click; her reply comes, the counter counts, her voice lights her characters', async () => {
        await recordLights(tab);
        await tab.locator('button.chip', { hasText: '我想学习汉语' }).click();
        await tab.locator('.msg.me', { hasText: '我想学习汉语' }).waitFor();
        await replies().first().waitFor({ timeout: 15_000 });
        const reply = replies().first();
        expect(await reply.locator('.zh').getAttribute('data-text')).toMatch(/汉语/);
        expect(await tab.locator('#history').innerText()).toBe('1 lượt');

        const voice = reply.locator('audio.voice');
        expect(await startsPlaying(voice)).toBe(true);
        mkdirSync(join(repoRoot, 'test-results'), { recursive: true });
        await tab.screenshot({ path: join(repoRoot, 'test-results', 'web-page-newcomer.png'), fullPage: true });
        expect(await playsToTheEnd(voice)).toBe(true);
        const turn = (await reply.getAttribute('data-turn-id')) ?? '';
        expectLitInOrder(
          (await lightsSeen(tab)).filter((light) => light.turn === turn),
          5,
        );
        // Once she stopped, nothing stays lit.
        expect(await reply.locator('.speaking').count()).toBe(0);
      });

      it('plays one voice at a time: a new reply, or another line played, stops the one playing', async () => {
        await recordLights(tab);
        // Her first line again, slowly: the longest voice of the page.
        const earlier = replies().first();
        await earlier.locator('button.slow').click();
        const replay = earlier.locator('audio.replay');
        await replay.waitFor({ state: 'attached', timeout: 10_000 });
        expect(await startsPlaying(replay)).toBe(true);

        // Her next reply comes while the replay still speaks: the replay stops.
        await tab.locator('button.chip', { hasText: '考考我' }).click();
        await replies().nth(1).waitFor({ timeout: 15_000 });
        const voice = replies().nth(1).locator('audio.voice');
        expect(await startsPlaying(voice)).toBe(true);
        expect(await replay.evaluate((audio: HTMLAudioElement) => audio.paused && !audio.ended)).toBe(true);
        expect((await pausedStates(tab)).filter((paused) => !paused)).toHaveLength(1);
        expect(await tab.locator('#history').innerText()).toBe('2 lượt');

        // The learner plays the replay on: her reply stops, the replay lights its characters to the end.
        await replay.evaluate((audio: HTMLAudioElement) => audio.play());
        expect(await voice.evaluate((audio: HTMLAudioElement) => audio.paused)).toBe(true);
        expect((await pausedStates(tab)).filter((paused) => !paused)).toHaveLength(1);
        expect(await playsToTheEnd(replay)).toBe(true);
        const turn = (await earlier.getAttribute('data-turn-id')) ?? '';
        expectLitInOrder(
          (await lightsSeen(tab)).filter((light) => light.turn === turn),
          5,
        );
      });

      it('connects as another learner when the name is changed', async () => {
        const socket = tab.waitForEvent('websocket');
        await tab.fill('#user', 'web-renamed');
        await tab.press('#user', 'Enter');
        expect(new URL((await socket).url()).pathname).toMatch(/\/web-renamed$/);
        await tab.getByText('đã kết nối').waitFor();
        expect(await tab.evaluate(() => localStorage.getItem('xiaoyue:user'))).toBe('web-renamed');
        expect(await replies().count()).toBe(0);
        expect(await tab.locator('.msg.intro').count()).toBe(1);
        expect(await tab.locator('#history').innerText()).toBe('0 lượt');

        // A name the server would refuse is not sent: the field says why.
        await tab.fill('#user', '师兄');
        await tab.press('#user', 'Enter');
        expect(await tab.locator('#user').evaluate((input: HTMLInputElement) => input.validationMessage)).toMatch(
          /không dấu/,
        );
        expect(await tab.evaluate(() => localStorage.getItem('xiaoyue:user'))).toBe('web-renamed');
      });
    });
  });

  describe('with her Edge voices (fake Edge)', () => {
    let edge: FakeEdgeTts;
    let system: RunningSystem;
    let page: Page;
    beforeAll(async () => {
      edge = await startFakeEdgeTts();
      system = await startSystem({ redisUrl: redis.url, edge });
      page = await openPage();
      await page.goto(`${system.probes.gateway}/?user=web-voices&autoconnect`);
      await page.getByText('đã kết nối').waitFor();
    });
    afterAll(async () => {
      await page?.close();
      await system?.stop();
      await edge?.close();
    });

    it('lets the learner pick her voice; the next reply is spoken in it', async () => {
      const picker = page.locator('#voice');
      await page.click('#show-progress'); // the picker lives in the progress panel
      await expect.poll(() => picker.isEnabled()).toBe(true);
      expect(await page.locator('#voice option').count()).toBeGreaterThan(5);
      await expect.poll(() => picker.inputValue()).toBe('zh-CN-XiaoxiaoNeural');
      await picker.selectOption('zh-CN-XiaoyiNeural', { timeout: 5_000 });
      await expect.poll(() => page.locator('#log').innerText(), { timeout: 5_000 }).toContain('zh-CN-XiaoyiNeural');
      edge.reset();
      const before = await page.locator('.msg.her').count();
      await page.locator('button.chip', { hasText: '你好' }).first().click({ timeout: 5_000 });
      await expect.poll(() => page.locator('.msg.her').count(), { timeout: 15_000 }).toBeGreaterThan(before);
      const reply = page.locator('.msg.her').last();
      await reply.locator('audio.voice').waitFor({ state: 'attached', timeout: 10_000 });
      // Her line was synthesised with the chosen voice, and that audio is what the page plays.
      expect(edge.requests.map((r) => r.voice)).toEqual(['zh-CN-XiaoyiNeural']);
    });
  });

  describe('with a model that sets quizzes (fake Gemini)', () => {
    let gemini: FakeGemini;
    let system: RunningSystem;
    let page: Page;
    /** Every frame the page received, as sent. */
    const received: string[] = [];
    const EXPLANATIONS = ['BÍ-MẬT-1: 谢谢 nghĩa là cảm ơn.', 'BÍ-MẬT-2: 朋友 nghĩa là bạn bè.', 'BÍ-MẬT-3: 好 là tốt.'];
    // The model's own shape: every item carries its key and explanation.
    const QUIZ_REPLY = {
      emotion: 'excited',
      chinese_content: '阿明师兄，考考你！',
      pinyin: 'Ā Míng shīxiōng, kǎo kǎo nǐ!',
      vietnamese_display: 'A Minh sư huynh, muội kiểm tra huynh nhé!',
      action: 'quiz',
      quiz_list: [
        {
          type: 'choice',
          question: '“谢谢”是什么意思？',
          options: ['xin chào', 'cảm ơn', 'tạm biệt'],
          answer: 'cảm ơn',
          hint: '',
          explanation: EXPLANATIONS[0],
        },
        {
          type: 'choice',
          question: '“朋友”是什么意思？',
          options: ['bạn bè', 'thầy giáo', 'sư phụ'],
          answer: 'bạn bè',
          hint: '',
          explanation: EXPLANATIONS[1],
        },
        {
          type: 'fill',
          question: '你___吗？(khỏe không?)',
          options: [],
          answer: '好',
          hint: 'hǎo',
          explanation: EXPLANATIONS[2],
        },
      ],
      user_tone: 'polite',
      learner_facts: { name: '阿明' },
      thought: 'a quiz for 阿明',
    };
    const item = (index: number) => page.locator('.msg.her').last().locator('.quiz .item').nth(index);

    beforeAll(async () => {
      gemini = await startFakeGemini();
      system = await startSystem({ redisUrl: redis.url, gemini });
      page = await openPage();
      page.on('websocket', (ws) => ws.on('framereceived', ({ payload }) => void received.push(String(payload))));
      await page.goto(`${system.probes.gateway}/?user=web-quizzer&autoconnect`);
      await page.getByText('đã kết nối').waitFor();
    });
    afterAll(async () => {
      await page?.close();
      await system?.stop();
      await gemini?.close();
    });

    it('renders a quiz without its answer key, and marks answers as the server grades them', async () => {
      gemini.enqueue({ kind: 'reply', body: QUIZ_REPLY });
      await page.fill('#message', '我叫阿明，考考我');
      await page.press('#message', 'Enter');
      const quiz = page.locator('.msg.her').last().locator('.quiz');
      await quiz.waitFor();
      expect(await quiz.locator('.q').count()).toBe(3);

      // Neither the keys nor the explanations reached the page before an answer.
      const reply = received.map((raw) => JSON.parse(raw)).find((frame) => frame.type === 'reply');
      expect(reply.data.quiz_list).toHaveLength(3);
      for (const quizItem of reply.data.quiz_list) {
        expect(quizItem.id).toMatch(/.+/);
        expect(quizItem).not.toHaveProperty('answer');
        expect(quizItem).not.toHaveProperty('explanation');
      }
      for (const explanation of EXPLANATIONS) {
        expect(received.some((raw) => raw.includes(explanation.slice(0, 8)))).toBe(false);
      }
      expect(await page.locator('.quiz .result:visible').count()).toBe(0);
      expect(await page.locator('.quiz .right, .quiz .wrong').count()).toBe(0);
      expect(await item(2).locator('.hint').innerText()).toContain('hǎo');

      // The right option, graded by the server.
      await item(0).locator('button', { hasText: 'cảm ơn' }).click();
      await item(0).locator('.result').waitFor();
      expect(await item(0).getAttribute('class')).toContain('right');
      expect(await item(0).locator('button.right').innerText()).toBe('cảm ơn');
      expect(await item(0).locator('button.wrong').count()).toBe(0);
      expect(await item(0).locator('.explanation').innerText()).toBe(EXPLANATIONS[0]);
      expect(await item(0).locator('.reaction .zh').innerText()).toMatch(/\p{Script=Han}/u);
      expect(await item(0).locator('button:enabled').count()).toBe(0);
      const result = received.map((raw) => JSON.parse(raw)).find((frame) => frame.type === 'quiz_result');
      expect(result.data).toMatchObject({ correct: true, answer: 'cảm ơn', expected: 'cảm ơn' });

      // A wrong one: marked wrong, the right option and the expected answer shown.
      await item(1).locator('button', { hasText: 'sư phụ' }).click();
      await item(1).locator('.result').waitFor();
      expect(await item(1).getAttribute('class')).toContain('wrong');
      expect(await item(1).locator('button.wrong').innerText()).toBe('sư phụ');
      expect(await item(1).locator('button.right').innerText()).toBe('bạn bè');
      expect(await item(1).locator('.expected').innerText()).toBe('bạn bè');
      expect(await item(1).locator('.explanation').innerText()).toBe(EXPLANATIONS[1]);
      expect(await item(1).locator('.card-note').innerText()).toMatch(/ôn/);
    });

    it('shows progress: counts, accuracy, words met and the remembered name', async () => {
      await page.click('#show-progress');
      const panel = page.locator('#progress');
      await panel.waitFor();
      await expect.poll(() => panel.locator('#p-accuracy').innerText()).toBe('50% (1/2)');
      expect(await panel.locator('#p-cards-total').innerText()).toBe('1');
      expect(await panel.locator('#p-cards-learned').innerText()).toBe('0');
      expect(Number(await panel.locator('#p-words').innerText())).toBeGreaterThan(0);
      expect(await panel.locator('#p-streak').innerText()).toMatch(/^1 /);
      expect(await panel.locator('#p-name').innerText()).toBe('阿明');
      expect(await panel.locator('#level').inputValue()).toMatch(/^[1-6]$/);
    });

    it('answers a fill question through its input, and the open panel follows', async () => {
      const fill = item(2);
      await fill.locator('input').fill('好');
      await fill.locator('input').press('Enter');
      await fill.locator('.result').waitFor();
      expect(await fill.getAttribute('class')).toContain('right');
      expect(await fill.locator('input.right').count()).toBe(1);
      expect(await fill.locator('.explanation').innerText()).toBe(EXPLANATIONS[2]);
      await expect.poll(() => page.locator('#p-accuracy').innerText()).toBe('67% (2/3)');
    });

    it('sets the HSK level from the panel', async () => {
      await page.selectOption('#level', '3');
      await page.locator('.system', { hasText: 'cấp HSK 3' }).waitFor();
      await page.click('#show-progress'); // close
      await page.click('#show-progress'); // open again: read back from the server
      await expect.poll(() => page.locator('#level').inputValue()).toBe('3');
    });

    it('shows her voice in the panel: offline (espeak-ng) her only one, so there is nothing to pick', async () => {
      await expect.poll(() => page.locator('#voice').inputValue()).toBe('espeak:cmn');
      expect(await page.locator('#voice option').count()).toBe(1);
      expect(await page.locator('#voice').isDisabled()).toBe(true);
    });

    it('asks a review from the Review button', async () => {
      await page.click('#review');
      const review = page.locator('.msg.her.review').last();
      await review.waitFor();
      // The card of the wrong answer comes back in a minute: nothing is due yet.
      expect(await review.locator('.zh').getAttribute('data-text')).toMatch(/\p{Script=Han}/u);
      expect(await review.locator('.due').innerText()).toMatch(/0 thẻ/);
      expect(await review.locator('.next-due').innerText()).toMatch(/Lần ôn tiếp theo/);
      mkdirSync(join(repoRoot, 'test-results'), { recursive: true });
      await page.screenshot({ path: join(repoRoot, 'test-results', 'web-page-quiz.png'), fullPage: true });
    });

    it('shows a message refused while she is still answering (busy), then her reply once', async () => {
      gemini.enqueue({ kind: 'reply', body: { ...QUIZ_REPLY, action: 'none', quiz_list: [] }, delayMs: 1_500 });
      const before = await page.locator('.msg.her').count();
      await page.fill('#message', '你好');
      await page.press('#message', 'Enter');
      await page.locator('#typing', { hasText: '小师妹正在输入' }).waitFor();
      await page.fill('#message', '你在吗？');
      await page.press('#message', 'Enter');
      await page.locator('.system.error', { hasText: 'Lỗi (busy)' }).waitFor();
      await expect.poll(() => page.locator('.msg.her').count(), { timeout: 10_000 }).toBe(before + 1);
      expect(await page.locator('#typing').innerText()).toBe('');
    });
  });
});
