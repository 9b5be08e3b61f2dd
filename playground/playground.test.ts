/**
 * The playground in a real browser: Debian's Chromium, driven by playwright-core (which downloads
 * nothing), opens the built page from a static file server written here, trains for a few seconds
 * and checks what a visitor would see. Twice: served with the cross-origin-isolation headers (so
 * the worker trains on threads) and without them (one thread, and the page says why). Each run
 * leaves a screenshot in artifacts/.
 *
 * Run by `npm run test:playground` and by .ci/run (not by `npm test`: it needs Chromium, which
 * .ci/run installs with apt). CHROMIUM_PATH overrides /usr/bin/chromium.
 */
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs'
import { type Server, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { extname, join, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Browser, chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildPlayground, defaultOutput } from './build.js'
import type { PageState } from './protocol.js'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url))
/** Updates to wait for: enough for the loss to fall clearly and for samples and gradient norms after training began. */
const UPDATES = 100

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.map': 'application/json',
}

/** A static file server for `folder` on a free loopback port; `isolated` adds the COOP/COEP headers. */
const serve = async (folder: string, isolated: boolean): Promise<{ url: string; server: Server }> => {
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname)
    const file = resolve(folder, `.${path.endsWith('/') ? `${path}index.html` : path}`)
    if (!file.startsWith(folder + sep) || !existsSync(file) || !statSync(file).isFile()) {
      response.writeHead(404).end('not found')
      return
    }
    response.writeHead(200, {
      'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
      'Cache-Control': 'no-store',
      ...(isolated ? { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } : {}),
    })
    response.end(readFileSync(file))
  })
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server }
}

const mean = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0) / values.length

describe('playground in Chromium', () => {
  let browser: Browser
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`playground test: no Chromium at ${CHROMIUM}; install it with \`apt-get install -y chromium\` or set CHROMIUM_PATH.`)
    await buildPlayground()
    mkdirSync(ARTIFACTS, { recursive: true })
    // The flags keep a root, headless Chromium off the network this machine does not have.
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    })
  }, 60_000)
  afterAll(async () => {
    await browser?.close()
  })

  /** Opens the page from a fresh server, collecting console errors (page and workers) and long tasks on the page's thread. */
  const open = async (isolated: boolean) => {
    const { url, server } = await serve(defaultOutput, isolated)
    const page = await browser.newPage({ viewport: { width: 1100, height: 1100 } })
    const consoleErrors: string[] = []
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()) })
    page.on('pageerror', (e) => consoleErrors.push(e.message))
    page.on('worker', (w) => w.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(`worker: ${m.text()}`) }))
    await page.addInitScript(() => {
      const longTasks: number[] = []
      Object.assign(window, { longTasks })
      new PerformanceObserver((list) => { for (const e of list.getEntries()) longTasks.push(e.duration) }).observe({ type: 'longtask' })
    })
    await page.goto(url)
    await page.waitForFunction(() => (window as unknown as { playground: PageState }).playground.backend !== undefined, undefined, { timeout: 20_000 })
    const state = () => page.evaluate(() => (window as unknown as { playground: PageState }).playground)
    /** Waits until `updates` updates, samples and gradient norms after training began, or an error or divergence. */
    const trainUntil = (updates: number) => page.waitForFunction((n) => {
      const s = (window as unknown as { playground: PageState }).playground
      const trained = s.steps.length >= n && s.samples.some((x) => x.step > 0) && s.gradientFlow.some((g) => g.step > 0)
      return trained || s.errors.length > 0 || s.diverged !== undefined
    }, updates, { timeout: 60_000, polling: 100 })
    const close = async () => {
      await page.close()
      server.close()
    }
    return { page, consoleErrors, state, trainUntil, close }
  }

  it.each([
    { isolated: true, screenshot: 'playground.png', choose: undefined },
    { isolated: false, screenshot: 'playground-one-thread.png', choose: { cell: 'gru', hidden: 32, learningRate: 0.02 } },
  ])('trains names (cross-origin isolated: $isolated): the loss falls, names are sampled, no console error', async ({ isolated, screenshot, choose }) => {
    const { page, consoleErrors, state: read, trainUntil, close } = await open(isolated)
    try {
      expect(await page.evaluate(() => crossOriginIsolated)).toBe(isolated)
      if (choose !== undefined) {
        await page.selectOption('#cell', choose.cell)
        await page.selectOption('#hidden', String(choose.hidden))
        await page.fill('#learning-rate', String(choose.learningRate))
        await page.press('#learning-rate', 'Tab')
      }
      // Long tasks on the page's own thread from here on: training must not freeze it.
      await page.evaluate(() => { (window as unknown as { longTasks: number[] }).longTasks.length = 0 })

      const started = Date.now()
      await page.click('#train')
      await trainUntil(UPDATES)
      const seconds = (Date.now() - started) / 1000
      // Pause, as a visitor would to read the page: the updates stop and the page shows the last of them.
      await page.click('#train')
      await expect.poll(() => page.locator('#train').textContent()).toBe('Resume')
      // The worker reads messages between slices of steps, so the slice under way when it was clicked may
      // still report: wait for the count to settle, then check that it stays.
      let paused = -1
      await expect.poll(async () => {
        const before = (await read()).steps.length
        await page.waitForTimeout(200)
        paused = (await read()).steps.length
        return paused === before
      }, { timeout: 5_000 }).toBe(true)
      await page.waitForTimeout(500)
      const state = await read()
      expect(state.steps.length).toBe(paused)
      const longTasks = await page.evaluate(() => (window as unknown as { longTasks: number[] }).longTasks)
      const shot = join(ARTIFACTS, screenshot)
      await page.screenshot({ path: shot, fullPage: true })
      console.log(
        `playground (${isolated ? 'isolated' : 'not isolated'}): ${state.steps.length} updates in ${seconds.toFixed(1)} s on ${state.backend?.name}, ` +
          `loss ${state.steps[0]?.loss.toFixed(2)} → ${state.steps.at(-1)?.loss.toFixed(2)}; longest task on the page ${Math.max(0, ...longTasks).toFixed(0)} ms; screenshot ${shot}`,
      )

      expect([...consoleErrors, ...state.errors]).toEqual([])
      expect(state.diverged).toBeUndefined()
      expect(state.settings).toEqual({ cell: 'lstm', hidden: 64, learningRate: 0.01, seed: 0, ...choose })
      // The loss fell: from about ln 29 ≈ 3.37 nats per character untrained, by well over the minibatch noise.
      const first = state.steps[0].loss
      const last = mean(state.steps.slice(-10).map((s) => s.loss))
      expect(first).toBeGreaterThan(3.2)
      expect(last).toBeLessThan(first - 0.5)
      const held = state.validation
      expect(held[0]).toMatchObject({ step: 0, loss: expect.closeTo(first, 0.1) })
      expect(held.at(-1)?.step).toBeGreaterThan(0)
      expect(held.at(-1)?.loss).toBeLessThan(held[0].loss - 0.5)
      // Names were sampled from the trained model, and the page shows them.
      const sampled = state.samples.at(-1)
      expect(sampled?.step).toBeGreaterThan(0)
      expect(sampled?.names.filter((n) => /^[a-z-]+$/.test(n.name)).length).toBeGreaterThan(4)
      expect(await page.locator('#samples li').allTextContents()).toEqual(sampled?.names.map((n) => n.name || '(empty)'))
      // One gradient norm per time step (the longest name plus its end token), finite; 0 only past
      // the longest name of the probed batch, where every row is padding.
      const norms = state.gradientFlow.at(-1)?.norms ?? []
      expect(norms.length).toBeGreaterThan(10)
      expect(norms.every((n) => Number.isFinite(n) && n >= 0)).toBe(true)
      const real = norms.findIndex((n) => n === 0)
      expect(real === -1 ? norms.length : real).toBeGreaterThan(5)
      expect(norms.slice(real === -1 ? norms.length : real).every((n) => n === 0)).toBe(true)
      // Threads exactly when isolated, and the page says which.
      const note = await page.locator('#isolation').textContent()
      if (isolated) {
        expect(state.backend?.threads).toBeGreaterThan(1)
        expect(state.backend?.name).toMatch(/threads/)
        expect(state.chunksOnWorkers).toBeGreaterThan(0)
        expect(note).toMatch(/^Cross-origin isolated: training runs on \d threads/)
      } else {
        expect(state.backend).toMatchObject({ threads: 1, name: expect.stringMatching(/^wasm/) })
        expect(note).toMatch(/not cross-origin isolated/)
      }
      // The page stayed responsive: no task on its thread near a visible freeze.
      expect(Math.max(0, ...longTasks)).toBeLessThan(250)
    } finally {
      await close()
    }
  }, 120_000)

  it('a setting changed while training starts a new model at once', async () => {
    const { page, consoleErrors, state: read, trainUntil, close } = await open(false)
    try {
      await page.click('#train')
      await page.waitForFunction(() => (window as unknown as { playground: PageState }).playground.steps.length >= 10, undefined, { timeout: 30_000 })
      await page.selectOption('#cell', 'elman')
      await trainUntil(30)
      const state = await read()
      expect([...consoleErrors, ...state.errors]).toEqual([])
      expect(state.settings).toMatchObject({ cell: 'elman', hidden: 64 })
      expect(state.steps[0].step).toBe(1)
      expect(state.validation[0].step).toBe(0)
      expect(await page.locator('#train').textContent()).toBe('Pause')
    } finally {
      await close()
    }
  }, 60_000)
})
