// End to end in a real browser: Debian's Chromium (driven by playwright-core) against the real server, serving the
// freshly bundled web client and a model trained here on real MNIST. Draws digits with the mouse and with touch
// pointer events, checks the live guess/bars/preview, Predict, Clear, reconnection after a server restart and a
// stored correction, that the preview is the 28×28 Node's FastPreprocessor makes of the streamed points (and the
// server's answer the Predictor's on it), that the core compiles from bytes when not served as application/wasm and
// that the page works on without it, and saves screenshots to test/artifacts/. Fails (not skips) in CI when Chromium
// is missing.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { freePort } from '../helpers/ports.js';
import { chromium, type Browser, type Page, type WebSocket as PageSocket } from 'playwright-core';
import { Registry } from 'prom-client';
import { ModelRegistry } from '../../src/model/registry.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { ModelHolder } from '../../src/server/model-holder.js';
import { startServer, type RunningServer, type ServerOptions } from '../../src/server/app.js';
import { webDirs } from '../../src/server/serve.js';
import { Random } from '../../src/random.js';
import { loadCore } from '../../src/wasm/core.js';
import { FastPreprocessor } from '../../src/preprocess/fast-strokes.js';
import { DEFAULT_CANVAS, type ClientMessage, type ServerMessage } from '../../src/protocol.js';
import { place } from '../helpers/digits.js';
import { addTrainedModel } from '../helpers/model.js';
import { pollUntil } from '../helpers/poll.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const artifacts = join(root, 'test', 'artifacts');
const WAIT = { timeout: 10_000 };


let tmp: string;
let holder: ModelHolder;
let server: RunningServer | undefined;
let port: number;
let browser: Browser | undefined;
let feedbackDir: string;

const trainModel = (registry: ModelRegistry): Promise<string> =>
  addTrainedModel(registry, { sizes: [784, 128, 10], epochs: 2, limit: 30000, augment: true, seed: 1 });

async function start(atPort: number): Promise<RunningServer> {
  const options: ServerOptions = {
    host: '127.0.0.1', port: atPort, holder, metrics: createMetrics(new Registry(), { defaultMetrics: false }),
    staticDirs: webDirs(), feedbackDir,
  };
  return startServer(options);
}

// Outside CI a machine without Chromium skips with this reason; in CI the suite runs and beforeAll fails loudly.
const skip = !hasChromium && !process.env.CI;
if (skip) console.warn(`e2e skipped: no Chromium at ${CHROMIUM} (apt-get install chromium); set CI=1 to make this a failure`);

describe.skipIf(skip)('web client in Chromium', () => {
  beforeAll(async () => {
    if (!hasChromium) throw new Error(`Chromium missing at ${CHROMIUM}: apt-get install chromium (the e2e test needs it in CI)`);
    await build({ entryPoints: [join(root, 'web', 'src', 'main.ts')], bundle: true, format: 'esm', target: 'es2022',
      outfile: join(root, 'build', 'web', 'app.js'), sourcemap: true, logLevel: 'warning' });
    // What `npm run build:web` does besides bundling: the core next to app.js (the test tier has built it already).
    copyFileSync(join(root, 'build', 'core.wasm'), join(root, 'build', 'web', 'core.wasm'));
    mkdirSync(artifacts, { recursive: true });
    tmp = mkdtempSync(join(tmpdir(), 'doodle-e2e-'));
    feedbackDir = join(tmp, 'feedback');
    const registry = new ModelRegistry(join(tmp, 'models'));
    const [version] = await Promise.all([
      trainModel(registry),
      chromium.launch({ executablePath: CHROMIUM, timeout: 30_000, args: ['--headless', '--no-sandbox', '--disable-gpu',
        '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] })
        .then((b) => { browser = b; }),
    ]);
    registry.promote(version);
    holder = new ModelHolder(registry);
    await holder.load();
    server = await start(await freePort());
    port = server.port;
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    holder?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const url = () => `http://127.0.0.1:${port}/`;

  /** Everything the tests look at, read from the DOM and the canvases in one go. */
  const ui = (page: Page) => page.evaluate(() => {
    const text = (id: string) => document.getElementById(id)!.textContent ?? '';
    const ink = (id: string, channel: number) => {
      const c = document.getElementById(id) as HTMLCanvasElement;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let s = 0;
      for (let i = channel; i < d.length; i += 4) s += d[i]!;
      return s;
    };
    return {
      guess: text('guess'), label: text('guess-label'), confidence: text('confidence'), hint: text('hint'), error: text('error'),
      status: text('feedback-status'), model: text('model'), latency: text('latency'),
      bars: Array.from(document.querySelectorAll<HTMLElement>('.bar-fill')).map((b) => parseFloat(b.style.width) || 0),
      padInk: ink('pad', 3), previewInk: ink('preview', 0),
      choicesEnabled: Array.from(document.querySelectorAll<HTMLButtonElement>('#choices button')).filter((b) => !b.disabled).length,
      predictEnabled: !(document.getElementById('predict') as HTMLButtonElement).disabled,
      offline: document.getElementById('result')!.classList.contains('offline'),
      resultOpacity: Number(getComputedStyle(document.querySelector('#result .guess-box')!).opacity),
      barsOpacity: Number(getComputedStyle(document.getElementById('bars')!).opacity),
    };
  });

  async function open(page: Page): Promise<void> {
    await page.goto(url(), WAIT);
    await page.waitForFunction(() => document.getElementById('model')!.textContent !== '—', null, WAIT); // hello answered
  }

  /** Draws canvas-280 strokes with the mouse; `during` runs while the pen is still down, half-way through stroke 0. */
  async function drawMouse(page: Page, strokes: Array<Array<[number, number]>>, during?: () => Promise<void>): Promise<void> {
    const box = (await page.locator('#pad').boundingBox())!;
    const to = ([x, y]: [number, number]) => [box.x + (x * box.width) / 280, box.y + (y * box.height) / 280] as const;
    for (const [k, stroke] of strokes.entries()) {
      await page.mouse.move(...to(stroke[0]!));
      await page.mouse.down();
      for (const [i, p] of stroke.slice(1).entries()) {
        await page.mouse.move(...to(p), { steps: 2 });
        if (k === 0 && i === Math.floor(stroke.length / 2) && during) await during();
      }
      await page.mouse.up();
    }
  }

  /** Waits for the answer to Predict: the result panel's label turns "Prediction" over the digit. */
  const predicted = async (page: Page): Promise<number> => {
    await page.waitForFunction(() => document.getElementById('guess-label')!.textContent === 'Prediction'
      && /^\d$/.test(document.getElementById('guess')!.textContent ?? ''), null, WAIT);
    return Number((await ui(page)).guess);
  };

  async function predict(page: Page): Promise<number> {
    await page.click('#predict');
    return predicted(page);
  }

  /** Stops the server, runs `whileDown` once the page says so, then restarts it on the same port (the page knows that
   * address) and waits until the page has reconnected. */
  async function outage(page: Page, whileDown: () => Promise<void>): Promise<void> {
    await server!.close(); // stops listening, closes WebSockets (1001) and idle keep-alive connections
    server = undefined;
    try {
      await page.waitForFunction(() => document.getElementById('error')!.textContent!.startsWith('Connection Failed'), null, WAIT);
      await whileDown();
    } finally {
      server = await start(port);
    }
    await page.waitForFunction(() => document.getElementById('error')!.textContent === '', null, WAIT);
  }

  async function clear(page: Page): Promise<void> {
    await page.click('#clear');
    await page.waitForFunction(() => document.getElementById('hint')!.textContent === 'Draw a digit', null, WAIT);
  }

  it('draws digits with the mouse: live guess and bars while drawing, Predict, preview, Clear', async () => {
    const page = await browser!.newPage({ viewport: { width: 900, height: 800 } });
    await open(page);
    const rng = new Random(5);
    const cases: Array<[number, { x: number; y: number; w: number; h: number }]> = [
      [7, { x: 70, y: 35, w: 140, h: 210 }],
      [4, { x: 65, y: 35, w: 150, h: 210 }], // two strokes
      [0, { x: 165, y: 150, w: 80, h: 110 }], // small and off-centre
    ];
    let right = 0;
    const got: number[] = [];
    for (const [digit, box] of cases) {
      const before = await ui(page);
      expect(before.bars.every((b) => b === 0), 'bars empty before drawing').toBe(true);
      expect(before.confidence).toBe('');
      expect(before.hint).toBe('Draw a digit');
      expect(before.choicesEnabled).toBe(0);
      await drawMouse(page, place(digit, box, rng), async () => {
        // Pen still down: the streamed strokes already produced a guess and bars.
        await page.waitForFunction(() => /^\d$/.test(document.getElementById('guess')!.textContent ?? '')
          && Array.from(document.querySelectorAll<HTMLElement>('.bar-fill')).some((b) => parseFloat(b.style.width) > 0), null, WAIT);
        const mid = await ui(page);
        expect(mid.bars.reduce((a, b) => a + b, 0)).toBeCloseTo(100, 0);
        expect(mid.previewInk).toBeGreaterThan(0);
      });
      const n = await predict(page);
      got.push(n);
      if (n === digit) right++;
      const after = await ui(page);
      expect(after).toMatchObject({ label: 'Prediction', hint: 'Done — Clear to draw another' });
      expect(after.previewInk, '28×28 preview has ink').toBeGreaterThan(255 * 20);
      expect(after.padInk).toBeGreaterThan(0);
      expect(after.choicesEnabled).toBe(10);
      expect(after.latency).toMatch(/^\d+ ms$/);
      expect(after.error).toBe('');
      if (digit === 7) await page.screenshot({ path: join(artifacts, 'ui-digit.png') });
      await clear(page);
      const cleared = await ui(page);
      expect(cleared).toMatchObject({ padInk: 0, previewInk: 0, guess: '–', label: 'Live guess', confidence: '', hint: 'Draw a digit', choicesEnabled: 0 });
      expect(cleared.bars).toEqual(new Array(10).fill(0));
    }
    expect(right, `predicted ${got.join(', ')} for 7, 4, 0`).toBeGreaterThanOrEqual(2);
    // Keyboard: Enter predicts, C clears.
    await drawMouse(page, place(7, cases[0]![1], rng));
    expect((await ui(page)).hint).toBe('Press Enter or Predict Digit');
    await page.keyboard.press('Enter');
    expect(await predicted(page)).toBe(7);
    await page.keyboard.press('c');
    expect((await ui(page)).padInk).toBe(0);
    await page.close();
  }, 60_000);

  it('shows "Connection Failed" when the server stops, greys the result, and recovers on its own when it is back', async () => {
    const page = await browser!.newPage({ viewport: { width: 900, height: 800 } });
    await open(page);
    const rng = new Random(8);
    await drawMouse(page, place(1, { x: 90, y: 30, w: 100, h: 220 }, rng)); // drawn before the outage: resent after it
    await page.waitForFunction(() => /^\d$/.test(document.getElementById('guess')!.textContent ?? ''), null, WAIT);
    const live = { offline: false, resultOpacity: 1, barsOpacity: 1, choicesEnabled: 10, predictEnabled: true };
    expect(await ui(page)).toMatchObject(live);
    await outage(page, async () => {
      const down = await ui(page);
      expect(down).toMatchObject({ error: 'Connection Failed — retrying…', offline: true, choicesEnabled: 0, predictEnabled: false });
      expect(down.guess, 'the last guess stays visible, greyed').toMatch(/^\d$/);
      expect(down.resultOpacity).toBeLessThanOrEqual(0.5);
      expect(down.barsOpacity).toBeLessThanOrEqual(0.5);
      expect(await page.locator('#error').evaluate((e) => getComputedStyle(e).color)).toBe('rgb(255, 107, 107)');
      await page.screenshot({ path: join(artifacts, 'ui-connection-failed.png') });
    });
    expect(await ui(page)).toMatchObject(live);
    expect(await predict(page)).toBe(1); // the resent drawing, predicted by the new server
    await clear(page);
    await drawMouse(page, place(7, { x: 70, y: 35, w: 140, h: 210 }, rng));
    expect(await predict(page)).toBe(7);
    await page.close();
  }, 30_000);

  /** Position and width of the result panel and the drawing column, in CSS px. */
  const boxes = (page: Page) => page.evaluate(() => Object.fromEntries(['result', 'pad'].map((id) => {
    const el = id === 'pad' ? document.querySelector('.draw')! : document.getElementById(id)!;
    const r = el.getBoundingClientRect();
    return [id === 'pad' ? 'draw' : id, { x: r.x, y: r.y, width: r.width }];
  })));
  const across = (b: Awaited<ReturnType<typeof boxes>>) => Object.fromEntries(Object.entries(b).map(([k, v]) => [k, { x: v.x, width: v.width }]));

  /** Ids (or classes) of the visible elements whose own text matches `re`, outside the bars, the correction buttons and
   * the footer (whose digits are labels, a model version and a latency, not the answer). */
  const showing = (page: Page, re: RegExp) => page.evaluate((src) => {
    const match = new RegExp(src, 'i');
    const found: string[] = [];
    for (const el of Array.from(document.body.querySelectorAll<HTMLElement>('*'))) {
      if (el.closest('#bars, #choices, footer')) continue;
      const own = Array.from(el.childNodes as NodeListOf<ChildNode>).filter((n) => n.nodeType === Node.TEXT_NODE).map((n) => n.textContent).join('').trim();
      const r = el.getBoundingClientRect();
      if (own && match.test(own) && r.width > 0 && r.height > 0 && el.checkVisibility({ opacityProperty: true, visibilityProperty: true })) {
        found.push(el.id || el.className);
      }
    }
    return found;
  }, re.source);

  /** Whether an element's text fits its own box, the box its parent, and the page the viewport (no sideways scroll). */
  const fits = (page: Page, selector: string) => page.$eval(selector, (e) => {
    const r = e.getBoundingClientRect(), c = e.parentElement!.getBoundingClientRect();
    return { clipped: e.scrollWidth > e.clientWidth, inside: r.left >= c.left - 0.5 && r.right <= c.right + 0.5,
      pageScrolls: document.documentElement.scrollWidth > innerWidth };
  });
  const FITS = { clipped: false, inside: true, pageScrolls: false };
  /** How many lines an element's text is laid out on. */
  const lines = (page: Page, selector: string) => page.$eval(selector, (e) => {
    const range = document.createRange();
    range.selectNodeContents(e);
    return new Set(Array.from(range.getClientRects()).map((r) => Math.round(r.top))).size;
  });

  for (const width of [1280, 390]) {
    it(`at ${width} px: nothing moves while drawing and predicting, one hint, one answer, greyed while offline, no 404`, async () => {
      const page = await browser!.newPage({ viewport: { width, height: 900 } });
      const failed: string[] = [];
      page.on('response', (r) => { if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`); });
      await open(page);
      // Headless Chromium never asks for a favicon (headed Chromium asks for /favicon.ico when the page names none),
      // so the 404 listener alone cannot see that one: check that the page names an icon and that it loads.
      expect(await page.evaluate(async () => {
        const icon = document.querySelector<HTMLLinkElement>('link[rel~="icon"]');
        if (!icon) return 'no <link rel="icon">';
        const r = await fetch(icon.href);
        return `${r.status} ${r.headers.get('content-type')}`;
      })).toBe('200 image/svg+xml');
      const still = await boxes(page);
      expect(await showing(page, /draw a digit/)).toEqual(['hint']);
      const tops = await page.$$eval('#choices button', (bs) => bs.map((b) => (b as HTMLElement).offsetTop));
      const perRow = [...new Set(tops)].map((t) => tops.filter((u) => u === t).length);
      expect([[10], [5, 5]], `digit buttons per row: ${perRow.join(' + ')}`).toContainEqual(perRow);
      expect(await fits(page, '#choices')).toEqual(FITS);

      let whileDrawing: typeof still | undefined;
      await drawMouse(page, place(7, { x: 70, y: 35, w: 140, h: 210 }, new Random(3)), async () => {
        await page.waitForFunction(() => /^\d$/.test(document.getElementById('guess')!.textContent ?? ''), null, WAIT);
        whileDrawing = await boxes(page);
        await page.screenshot({ path: join(artifacts, `ui-${width}-drawing.png`), fullPage: true });
      });
      expect(whileDrawing).toEqual(still);
      expect(await boxes(page)).toEqual(still);
      expect(await showing(page, /press enter or predict digit/)).toEqual(['hint']);
      expect(await fits(page, '#hint')).toEqual(FITS);
      expect(await predict(page)).toBe(7);
      expect(await boxes(page)).toEqual(still);
      expect(await fits(page, '#hint')).toEqual(FITS);
      expect(await showing(page, /(?<![\d.])7(?![\d%.])/), 'the answer shows once').toEqual(['guess']);
      await page.screenshot({ path: join(artifacts, `ui-${width}.png`), fullPage: true });
      expect(failed, 'failed requests while loading and using the page').toEqual([]);

      await outage(page, async () => {
        const down = await ui(page);
        expect(down).toMatchObject({ offline: true, choicesEnabled: 0, predictEnabled: false });
        expect(down.resultOpacity).toBeLessThanOrEqual(0.5);
        expect(await page.locator('#result .guess-box').evaluate((e) => getComputedStyle(e).filter)).toBe('grayscale(1)');
        expect(await fits(page, '#error')).toEqual(FITS);
        expect(await lines(page, '#error'), 'the connection message reads as one line').toBe(1);
        expect(across(await boxes(page))).toEqual(across(still));
        await page.screenshot({ path: join(artifacts, `ui-${width}-offline.png`), fullPage: true });
      });
      expect(await ui(page)).toMatchObject({ offline: false, resultOpacity: 1, barsOpacity: 1, choicesEnabled: 10, predictEnabled: true });
      expect(await predicted(page)).toBe(7); // the same drawing, resent, still shown as the prediction
      await page.close();
    }, 30_000);
  }

  it('stores a correction: POST /feedback, confirmation, a record in the feedback folder', async () => {
    const page = await browser!.newPage({ viewport: { width: 900, height: 800 } });
    await open(page);
    await drawMouse(page, place(2, { x: 70, y: 40, w: 140, h: 200 }, new Random(13)));
    const predicted = await predict(page);
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/feedback') && r.request().method() === 'POST', WAIT),
      page.click('#choices button:nth-child(3)'), // "2"
    ]);
    if (response.status() === 404) throw new Error('POST /feedback missing');
    const sent = response.request().postDataJSON() as { label: number; strokes: unknown[]; image: number[]; predicted: number | null; model: string; width: number; brush: number };
    expect(sent).toMatchObject({ label: 2, predicted, width: 280, height: 280, brush: 18, model: (await ui(page)).model });
    expect(sent.image).toHaveLength(784);
    expect(sent.strokes).toHaveLength(1);
    expect(response.status(), await response.text()).toBe(200);
    expect(await response.json()).toMatchObject({ stored: true, id: expect.any(String) });
    await page.waitForFunction(() => document.getElementById('feedback-status')!.textContent === 'Thanks — saved as 2', null, WAIT);
    const files = readdirSync(feedbackDir, { recursive: true }).map(String).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThanOrEqual(1);
    await page.screenshot({ path: join(artifacts, 'ui-feedback.png') });
    await page.close();
  }, 30_000);

  it('draws with touch pointer events on a high-DPI touch screen', async () => {
    const context = await browser!.newContext({ hasTouch: true, isMobile: true, deviceScaleFactor: 2, viewport: { width: 400, height: 900 } });
    const page = await context.newPage();
    await open(page);
    expect(await page.locator('#pad').evaluate((c: HTMLCanvasElement) => [c.width, c.height, c.clientWidth])).toEqual([560, 560, 280]);
    await page.touchscreen.tap(5, 5); // a real touch outside the pad: it must not draw
    const [stroke] = place(1, { x: 90, y: 30, w: 100, h: 220 }, new Random(21));
    await page.locator('#pad').evaluate(async (pad: HTMLCanvasElement, points: Array<[number, number]>) => {
      const r = pad.getBoundingClientRect();
      const fire = (type: string, [x, y]: [number, number]) => pad.dispatchEvent(new PointerEvent(type, {
        pointerId: 7, pointerType: 'touch', isPrimary: true, bubbles: true, cancelable: true, button: type === 'pointermove' ? -1 : 0,
        clientX: r.left + (x * r.width) / 280, clientY: r.top + (y * r.height) / 280, pressure: 0.5,
      }));
      fire('pointerdown', points[0]!);
      for (const p of points.slice(1)) {
        fire('pointermove', p);
        await new Promise((done) => requestAnimationFrame(done)); // one frame per sample, like a finger
      }
      fire('pointerup', points[points.length - 1]!);
    }, stroke!);
    await page.waitForFunction(() => /^\d$/.test(document.getElementById('guess')!.textContent ?? ''), null, WAIT);
    const n = await predict(page);
    expect(n).toBe(1);
    expect((await ui(page)).padInk).toBeGreaterThan(0);
    await page.screenshot({ path: join(artifacts, 'ui-touch.png') });
    await context.close();
  }, 30_000);

  /** The page's test hook (web/src/main.ts, docs/web.md). */
  interface Hook { core: string; strokes(): Array<Array<[number, number]>>; preview(): number[] | null }
  const hook = (page: Page) => page.evaluate(() => {
    const h = (window as unknown as { doodleDigits: Hook }).doodleDigits;
    return { core: h.core, strokes: h.strokes(), preview: h.preview() };
  });
  /** Waits until the page's core has loaded or failed to. */
  const coreSettled = (page: Page) =>
    page.waitForFunction(() => (window as unknown as { doodleDigits: Hook }).doodleDigits.core !== 'loading', null, WAIT);

  /** Index of the last message of this type before `end`, or −1. */
  const lastIndex = (ms: ClientMessage[], end: number, type: ClientMessage['type']): number => {
    for (let i = end - 1; i >= 0; i--) if (ms[i]!.type === type) return i;
    return -1;
  };

  /** The page's own /ws traffic, decoded, in order: what it streamed and what the server answered (one socket). */
  function tap(page: Page): { sent: ClientMessage[]; got: ServerMessage[] } {
    const t = { sent: [] as ClientMessage[], got: [] as ServerMessage[] };
    page.on('websocket', (ws: PageSocket) => {
      ws.on('framesent', (f) => t.sent.push(JSON.parse(String(f.payload)) as ClientMessage));
      ws.on('framereceived', (f) => t.got.push(JSON.parse(String(f.payload)) as ServerMessage));
    });
    return t;
  }

  it('the preview is the 28×28 Node\'s FastPreprocessor makes of the streamed points; the server\'s answer is the ' +
    'Predictor\'s on it', async () => {
    const page = await browser!.newPage({ viewport: { width: 900, height: 800 } });
    const wire = tap(page);
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.stack ?? e.message));
    await open(page);
    await coreSettled(page);
    // application/wasm from the static server, so the page compiled the module while it downloaded.
    expect((await hook(page)).core).toBe('streaming');
    const pre = new FastPreprocessor(await loadCore());
    const rng = new Random(17);
    const cases: Array<[string, Array<Array<[number, number]>>]> = [
      ['large 7', place(7, { x: 70, y: 35, w: 140, h: 210 }, rng)],
      ['small 3 (a box of canvas pixels)', place(3, { x: 118, y: 120, w: 36, h: 48 }, rng)],
      ['off-centre 0', place(0, { x: 165, y: 150, w: 80, h: 110 }, rng)],
      ['two-stroke 4', place(4, { x: 65, y: 35, w: 150, h: 210 }, rng)],
      ['8 across the whole canvas', place(8, { x: 6, y: 4, w: 268, h: 272 }, rng)],
      ['2 running off the right edge (its base ends at x ≈ 290)', place(2, { x: 120, y: 40, w: 200, h: 200 }, rng)],
      ['a dot', [[[140.5, 120.25]]]],
      ['three strokes: 7 with a crossbar and a serif', [...place(7, { x: 70, y: 35, w: 140, h: 210 }, rng),
        [[105, 150], [185, 150]], [[60, 40], [70, 60]]]],
    ];
    const answers: Array<{ name: string; answer: ServerMessage; want: Float32Array; shown: string }> = [];
    for (const [name, strokes] of cases) {
      await clear(page);
      const from = wire.sent.length;
      await drawMouse(page, strokes);
      await page.click('#predict');
      // Every message the page sends is answered, in order (no backpressure with one drawer): the answer to its
      // `predict` is the received frame at the same index.
      const answered = await pollUntil(() => {
        const i = lastIndex(wire.sent, wire.sent.length, 'predict');
        return i >= from && wire.got.length > i ? i + 1 : 0;
      }, `the answer to ${name}'s predict`).catch((e: Error) => {
        const last = JSON.stringify(wire.sent.slice(-3)).slice(0, 300);
        throw new Error(`${e.message}; page errors: ${pageErrors.join('\n') || 'none'}; last sent: ${last}`);
      });
      const at = answered - 1;
      await predicted(page);
      const { strokes: shown, preview } = await hook(page);

      // The points the page streamed since its `clear`, as strokes: the page's own record of them must agree.
      const messages = wire.sent.slice(lastIndex(wire.sent, at, 'clear') + 1, at);
      const streamed: Array<Array<[number, number]>> = [];
      for (const m of messages) {
        if (m.type === 'begin') streamed.push([[m.x, m.y]]);
        else if (m.type === 'move') for (let k = 0; k < m.points.length; k += 2) streamed.at(-1)!.push([m.points[k]!, m.points[k + 1]!]);
      }
      expect(streamed.length, name).toBe(Math.max(1, strokes.length));
      expect(shown, `${name}: the page's strokes are the streamed ones`).toEqual(streamed);

      // Node replays the same messages into a StrokeSession, as the server's drawer session receives them.
      const session = pre.session(DEFAULT_CANVAS);
      for (const m of messages) {
        if (m.type === 'begin') session.begin(m.x, m.y);
        else if (m.type === 'move') session.extend(m.points);
        else if (m.type === 'end') session.end();
      }
      const want = new Float32Array(784);
      expect(session.toMnist(want), `${name} has ink`).toBe(true);
      session.free();
      expect(preview, name).toHaveLength(784);
      const diff = preview!.map((v, i) => Math.abs(v - want[i]!));
      const worst = diff.indexOf(Math.max(...diff));
      expect(diff[worst], `${name}: worst pixel ${worst}: browser ${preview![worst]}, Node ${want[worst]}`).toBeLessThanOrEqual(1e-6);
      expect(want.reduce((a, b) => a + b, 0), `${name}: more than a few pixels of ink`).toBeGreaterThan(3);

      answers.push({ name, answer: wire.got[at]!, want, shown: (await ui(page)).guess });
    }
    // The server's answers to `predict` are the in-process Predictor's on those 28×28s (the server preprocesses the
    // streamed points with FastPreprocessor too), and are what the page showed. Checked after every preview, so a
    // server that preprocesses differently does not hide a preview mismatch.
    for (const { name, answer, want, shown } of answers) {
      expect(answer.type, `${name}: ${JSON.stringify(answer)}`).toBe('prediction');
      if (answer.type !== 'prediction') continue;
      const expected = holder.predictor!.predict(want);
      expect(answer.digit, name).toBe(expected.digit);
      expect(shown, name).toBe(String(expected.digit));
      const probDiff = Math.max(...answer.probs.map((p, d) => Math.abs(p - expected.probs[d]!)));
      expect(probDiff, `${name}: server ${answer.probs.join(' ')} vs Predictor ${expected.probs.join(' ')}`).toBeLessThanOrEqual(1e-6);
    }
    await page.close();
  }, 60_000);

  it('a /core.wasm served as another type is compiled from its bytes: the preview works the same', async () => {
    const page = await browser!.newPage({ viewport: { width: 900, height: 800 } });
    // A proxy or static host that does not know .wasm: instantiateStreaming would reject the response.
    await page.route('**/core.wasm', async (route) => {
      const original = await route.fetch();
      await route.fulfill({ response: original, headers: { ...original.headers(), 'content-type': 'application/octet-stream' } });
    });
    await open(page);
    await coreSettled(page);
    expect((await hook(page)).core).toBe('buffer');
    expect(await page.locator('#preview-note').isVisible()).toBe(false);
    const strokes = place(7, { x: 70, y: 35, w: 140, h: 210 }, new Random(3));
    await drawMouse(page, strokes);
    expect(await predict(page)).toBe(7);
    const { strokes: shown, preview } = await hook(page);
    const session = new FastPreprocessor(await loadCore()).session(DEFAULT_CANVAS);
    for (const s of shown) session.addStroke(s);
    const want = new Float32Array(784);
    session.toMnist(want);
    expect(preview).toEqual(Array.from(want));
    expect((await ui(page)).previewInk).toBeGreaterThan(255 * 20);
    await page.close();
  }, 30_000);

  it('without WebAssembly: a note instead of the preview, guesses still stream, corrections off', async () => {
    const page = await browser!.newPage({ viewport: { width: 900, height: 800 } });
    // A browser that predates WebAssembly (SIMD): the page's loader finds nothing to compile with.
    await page.addInitScript(() => { delete (globalThis as { WebAssembly?: unknown }).WebAssembly; });
    await open(page);
    await coreSettled(page);
    expect((await hook(page)).core).toBe('missing');
    const note = page.locator('#preview-note');
    expect(await note.isVisible()).toBe(true);
    expect(await note.textContent()).toMatch(/^No preview in this browser/);
    await drawMouse(page, place(7, { x: 70, y: 35, w: 140, h: 210 }, new Random(3)));
    expect(await predict(page)).toBe(7);
    expect(await ui(page)).toMatchObject({ previewInk: 0, choicesEnabled: 0, error: '', hint: 'Done — Clear to draw another' });
    expect((await hook(page)).preview).toBeNull();
    await page.screenshot({ path: join(artifacts, 'ui-no-wasm.png') });
    await clear(page);
    expect((await ui(page)).padInk).toBe(0);
    await page.close();
  }, 30_000);
});
