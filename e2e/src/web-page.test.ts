import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, startTestRedis, type TestRedis } from '@xiaoyue/test-support';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSystem, startSystem } from './system.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);

let redis: TestRedis;
let system: RunningSystem;
let browser: Browser;
let page: Page;

describe.skipIf(!hasChromium)('the web page, in headless Chromium (apt package chromium)', () => {
  beforeAll(async () => {
    redis = await startTestRedis();
    system = await startSystem({ redisUrl: redis.url });
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
    page = await browser.newPage({ viewport: { width: 900, height: 1100 } });
  });
  afterAll(async () => {
    await browser?.close();
    await system?.stop();
    await redis?.stop();
  });

  it('connects and shows the offline badge', async () => {
    await page.goto(`${system.probes.gateway}/?user=web-tester&autoconnect`);
    await page.getByText('đã kết nối').waitFor();
    expect(await page.locator('#mode').isVisible()).toBe(true);
  });

  it('chats: her Chinese, pinyin, Vietnamese, emotion and a playable voice', async () => {
    await page.fill('#message', '你好');
    await page.press('#message', 'Enter');
    const reply = page.locator('.msg.her').last();
    await reply.locator('.zh', { hasText: '师兄好' }).waitFor();
    expect(await reply.locator('.py').innerText()).toMatch(/^Shī xiōng hǎo!/);
    expect(await reply.locator('.vi').innerText()).toMatch(/sư huynh/);
    expect(await reply.locator('.emotion').innerText()).toMatch(/vui/);
    const duration = await reply.locator('audio').evaluate(
      (audio: HTMLAudioElement) =>
        new Promise<number>((resolve) => {
          if (audio.readyState >= 1) resolve(audio.duration);
          audio.onloadedmetadata = () => resolve(audio.duration);
          audio.onerror = () => resolve(-1);
        }),
    );
    expect(duration).toBeGreaterThan(0.3);
  });

  it('renders a quiz as choices that mark the right answer', async () => {
    await page.fill('#message', '考考我');
    await page.press('#message', 'Enter');
    const quiz = page.locator('.msg.her').last().locator('.quiz');
    await quiz.waitFor();
    expect(await quiz.locator('.q').count()).toBe(3);
    await quiz.locator('.choices').first().locator('button').first().click();
    expect(await quiz.locator('.choices').first().locator('button.right').count()).toBe(1);
  });

  it('hides and shows the pinyin', async () => {
    await page.click('#toggle-pinyin');
    expect(await page.locator('.py').first().isVisible()).toBe(false);
    await page.click('#toggle-pinyin');
    expect(await page.locator('.py').first().isVisible()).toBe(true);
  });

  it('reconnects after a drop and shows a reply it missed, once', async () => {
    const before = await page.locator('.msg.her').count();
    await page.evaluate(() => {
      // biome-ignore lint/suspicious/noExplicitAny: the page's own socket variable
      (globalThis as any).eval('socket').close();
    });
    // While the page is away, the same learner talks from another device.
    const phone = await system.connect('web-tester');
    await phone.next('welcome');
    phone.send({ action: 'chat', message: '谢谢' });
    await phone.next('reply');
    phone.close();
    await page.locator('.msg.her .zh', { hasText: '不客气' }).waitFor({ timeout: 10_000 });
    await page.getByText('đã kết nối').waitFor();
    await page.waitForTimeout(500);
    expect(await page.locator('.msg.her').count()).toBe(before + 1);
    mkdirSync(join(repoRoot, 'test-results'), { recursive: true });
    await page.screenshot({ path: join(repoRoot, 'test-results', 'web-page.png'), fullPage: true });
  });
});
