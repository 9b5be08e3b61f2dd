import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ValueError } from '../../src/errors.js'
import { MAX_FRAMES, pickFrames, renderFigure } from '../../src/report/index.js'
import { count, firstImbalance } from './markup.js'

const x = Array.from({ length: 40 }, (_, i) => i)
const truth = x.map((i) => Math.sin(i / 6))
const framesOf = (n: number): number[][] => Array.from({ length: n }, (_, e) => truth.map((y) => y * (1 - Math.exp(-(e + 1) / 3))))

const keyTimesOf = (svg: string): number[][] => [...svg.matchAll(/keyTimes="([^"]+)"/g)].map((m) => m[1].split(';').map(Number))

describe('report.renderFigure (animation)', () => {
  it('holds one frame per epoch, each switched on in turn by a SMIL visibility animation', async () => {
    const n = 7
    const svg = await renderFigure({ kind: 'animation', title: 'Fit by epoch', xLabel: 'day', yLabel: 'tmax', x, truth, frames: framesOf(n) })
    expect(firstImbalance(svg)).toBeNull()
    expect(count(svg, '<g class="frame"')).toBe(n)
    expect(count(svg, '<animate attributeName="visibility" calcMode="discrete"')).toBe(n)
    expect(count(svg, 'repeatCount="indefinite"')).toBe(n)
    for (let e = 1; e <= n; e++) expect(svg).toContain(`>epoch ${e}</text>`)
    for (const text of ['Fit by epoch', 'day', 'tmax', 'truth', 'prediction']) expect(svg).toContain(`>${text}</text>`)
    // Without SMIL the final fit shows: only the last frame is visible by default.
    expect(count(svg, /<g class="frame" data-frame="\d+" visibility="visible">/)).toBe(1)
    expect(svg).toContain(`<g class="frame" data-frame="${n}" visibility="visible">`)
  })

  it('gives each frame its own time slot: key times increase within [0, 1] and slots follow the frame order', async () => {
    const n = 5
    const svg = await renderFigure({ kind: 'animation', title: 't', xLabel: 'x', yLabel: 'y', x, truth, frames: framesOf(n) })
    const times = keyTimesOf(svg)
    expect(times).toHaveLength(n)
    for (const t of times) {
      expect(t[0]).toBe(0)
      for (let i = 1; i < t.length; i++) expect(t[i]).toBeGreaterThan(t[i - 1])
      expect(t[t.length - 1]).toBeLessThanOrEqual(1)
    }
    // frame k turns on when frame k − 1 turns off
    for (let k = 1; k < n; k++) expect(times[k][1]).toBeCloseTo(times[k - 1][times[k - 1].length - 1], 6)
  })

  it('draws every overlay on the still part\'s plot origin (same padding, fixed scales)', async () => {
    const svg = await renderFigure({ kind: 'animation', title: 't', xLabel: 'x', yLabel: 'y', x, truth, frames: framesOf(3) })
    const origins = [...svg.matchAll(/<g fill="none" stroke-miterlimit="4" transform="(translate\([^)]*\))">/g)].map((m) => m[1])
    expect(origins).toHaveLength(4)
    expect(new Set(origins).size).toBe(1)
  })

  it(`keeps at most ${MAX_FRAMES} frames, spread over the whole run, labelled with their epochs`, async () => {
    const svg = await renderFigure({ kind: 'animation', title: 't', xLabel: 'x', yLabel: 'y', x, truth, frames: framesOf(150), frameLabel: 'step' })
    expect(count(svg, '<g class="frame"')).toBe(MAX_FRAMES)
    expect(svg).toContain('>step 1</text>')
    expect(svg).toContain('>step 150</text>')
    expect(svg.length).toBeLessThan(1_000_000)
  })

  it('keeps the y range near the truth when an early epoch shoots off (clipped, not squashing the rest)', async () => {
    const wild = [truth.map(() => 1000), ...framesOf(3)]
    const svg = await renderFigure({ kind: 'animation', title: 't', xLabel: 'x', yLabel: 'y', x, truth, frames: wild })
    const [, lo, hi] = /Y-axis titled 'y' for a linear scale with values from ([−\d.]+) to ([−\d.]+)/.exec(svg) ?? []
    const value = (text: string): number => Number(text.replace('−', '-')) // vega writes a real minus sign
    expect(value(lo)).toBeGreaterThan(-4)
    expect(value(hi)).toBeLessThan(4)
  })

  it('is a still with no animation markup when there is a single frame', async () => {
    const svg = await renderFigure({ kind: 'animation', title: 't', xLabel: 'x', yLabel: 'y', x, truth, frames: framesOf(1) })
    expect(count(svg, '<g class="frame"')).toBe(1)
    expect(svg).not.toContain('<animate')
  })

  it('rejects a frame or truth whose length differs from x', async () => {
    await expect(renderFigure({ kind: 'animation', title: 'W', xLabel: 'x', yLabel: 'y', x, truth, frames: [truth, [1, 2]] })).rejects.toThrow(ValueError)
    await expect(renderFigure({ kind: 'animation', title: 'W', xLabel: 'x', yLabel: 'y', x, truth, frames: [truth, [1, 2]] })).rejects.toThrow(/frame 1 has 2 values but x has 40/)
    await expect(renderFigure({ kind: 'animation', title: 'W', xLabel: 'x', yLabel: 'y', x, truth: [1], frames: [] })).rejects.toThrow(/truth has 1 values but x has 40/)
  })
})

describe('report.pickFrames', () => {
  it('keeps everything up to max, else max increasing indices including the first and the last', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 500 }), fc.integer({ min: 2, max: 80 }), (n, max) => {
        const picked = pickFrames(n, max)
        expect(picked).toHaveLength(Math.min(n, max))
        for (let i = 1; i < picked.length; i++) expect(picked[i]).toBeGreaterThan(picked[i - 1])
        if (n > 0) {
          expect(picked[0]).toBe(0)
          expect(picked[picked.length - 1]).toBe(n - 1)
        }
      }),
      { numRuns: 50, seed: 99 },
    )
  })

  it('spreads frames evenly', () => {
    expect(pickFrames(5, 3)).toEqual([0, 2, 4])
  })
})
