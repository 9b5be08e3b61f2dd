import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import { escapeHtml, formatNumber, renderFigure, renderReport } from '../../src/report/index.js'
import { count, firstImbalance, urls } from './markup.js'
import { sampleReport } from './sample.js'

const SVG_NAMESPACE = 'http://www.w3.org/2000/svg'

describe('report.renderReport', () => {
  const input = sampleReport()
  const rendering = (async () => {
    const started = performance.now()
    const html = await renderReport(input)
    return { html, seconds: (performance.now() - started) / 1000 }
  })()

  it('is a complete, balanced HTML document with title, summary, figures and config', async () => {
    const { html } = await rendering
    expect(html.startsWith('<!DOCTYPE html>\n<html lang="en">')).toBe(true)
    for (const tag of ['<html', '<head>', '<meta charset="utf-8">', '<title>scangrad sample report</title>', '<body>', '</body>', '</html>']) expect(html).toContain(tag)
    expect(firstImbalance(html, { html: true })).toBeNull()
    expect(html).toContain('<h1>scangrad sample report</h1>')
    expect(html).toContain('<th scope="row">test accuracy</th><td>0.91235</td>')
    expect(html).toContain('&quot;learningRate&quot;: 0.001')
    expect(count(html, '<figure ')).toBe(input.figures.length)
  })

  it('shows the figures in the given order', async () => {
    const { html } = await rendering
    const positions = input.figures.map((f) => html.indexOf(`aria-label="${escapeHtml(f.title)}"`))
    expect(positions.every((p) => p > 0)).toBe(true)
    expect([...positions].sort((a, b) => a - b)).toEqual(positions)
  })

  it('references no URL other than the SVG namespace, and has no script', async () => {
    const { html } = await rendering
    expect(urls(html).filter((u) => u !== SVG_NAMESPACE)).toEqual([])
    expect(html).not.toMatch(/<script|<link|<img|@import|url\((?!#)/i)
  })

  it('gives every element id a unique value, so inlined SVGs do not clip each other', async () => {
    const { html } = await rendering
    const ids = [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1])
    expect(ids.length).toBeGreaterThan(0)
    expect(new Set(ids).size).toBe(ids.length)
    for (const [, ref] of html.matchAll(/url\(#([^)]+)\)/g)) expect(ids).toContain(ref)
  })

  it('renders the eight sample figures in a few seconds', async () => {
    const { seconds } = await rendering
    expect(seconds).toBeLessThan(15) // ≈ 1–3 s alone; generous for a shared, busy machine
  })

  it('escapes every piece of text it is given', async () => {
    const evil = '<script>alert("x")</script>'
    const html = await renderReport({
      title: evil, subtitle: evil, summary: { [evil]: evil }, config: { note: evil },
      figures: [
        { kind: 'lines', title: evil, xLabel: evil, yLabel: evil, series: [{ name: evil, x: [1, 2], y: [1, 2] }] },
        { kind: 'text', title: evil, lines: [evil] },
      ],
    })
    expect(html).not.toContain('<script')
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;')
    expect(html).toContain('<title>&lt;script&gt;')
    expect(firstImbalance(html, { html: true })).toBeNull()
  })

  it('is deterministic and survives an empty report and a config that is not JSON', async () => {
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    const a = await renderReport({ title: 'empty', summary: {}, figures: [], config: cyclic })
    const b = await renderReport({ title: 'empty', summary: {}, figures: [], config: cyclic })
    expect(a).toBe(b)
    expect(a).toContain('No summary numbers.')
    expect(a).toContain('config not serialisable as JSON')
  })
})

describe('report.renderFigure (text)', () => {
  it('is an HTML block with the title and one line per entry, escaped', async () => {
    const html = await renderFigure({ kind: 'text', title: 'Sampled names', lines: ['amelina', 'jo & <em>'] })
    expect(html).toBe('<div class="text-figure"><h3>Sampled names</h3><pre>amelina\njo &amp; &lt;em&gt;</pre></div>')
  })
})

describe('report.escapeHtml and report.formatNumber', () => {
  it('escapes the five HTML-significant characters', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;')
  })

  it('formats summary numbers for people', () => {
    expect(formatNumber(10)).toBe('10')
    expect(formatNumber(0.912345678)).toBe('0.91235')
    expect(formatNumber(0.5)).toBe('0.5')
    expect(formatNumber(1.23456e-5)).toBe('1.235e-5')
    expect(formatNumber(NaN)).toBe('NaN')
    expect(formatNumber(-Infinity)).toBe('−∞')
  })
})

// src/report is pure string generation: it must load in a browser.
describe('report (browser-safe)', () => {
  const root = join(import.meta.dirname, '../../src/report')
  const files = readdirSync(root).filter((f) => f.endsWith('.ts'))

  it.each(files)('%s imports only vega, vega-lite and scangrad modules, and no Node global', (f) => {
    // The compiler's own import scan, which skips comments: doc examples may import node:fs.
    const source = readFileSync(join(root, f), 'utf8')
    const imports = ts.preProcessFile(source, true, true).importedFiles.map((i) => i.fileName)
    expect(imports.filter((i) => !(i.startsWith('./') || i.startsWith('../') || i === 'vega' || i === 'vega-lite'))).toEqual([])
    expect(source.replace(/\/\*[\s\S]*?\*\//g, '')).not.toMatch(/\b(process|Buffer|require)\b[.(]/)
  })
})
