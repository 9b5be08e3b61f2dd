import { describe, expect, it } from 'vitest'
import { ValueError } from '../../src/errors.js'
import { MAX_DIGITS, digitsSpec, renderFigure } from '../../src/report/index.js'
import { count, firstImbalance } from './markup.js'
import { mnistDigits } from './sample.js'

describe('report.renderFigure (digits)', () => {
  const { images, labels } = mnistDigits(2)
  const sixteen = images.slice(0, 16)
  const captions = sixteen.map((_, i) => `pred ${(labels[i] + (i === 3 ? 1 : 0)) % 10} (true ${labels[i]})`)

  it('draws 16 real digits with their captions in a small SVG', async () => {
    const svg = await renderFigure({ kind: 'digits', title: 'Sample digits', images: sixteen, captions })
    expect(firstImbalance(svg)).toBeNull()
    expect(svg).toContain('>Sample digits</text>')
    expect(svg).toContain('>pred 0 (true 0)</text>')
    expect(svg).toContain('>pred 2 (true 1)</text>')
    for (const c of captions) expect(svg).toContain(`>${c}</text>`)
    expect(svg.length).toBeLessThan(200_000)
    // ink is grey on white: some mid greys and the darkest level appear
    expect(svg).toContain('fill="#000000"')
    expect(count(svg, /fill="#([0-9a-f]{2})\1\1"/)).toBeGreaterThan(500)
  })

  it('escapes captions', async () => {
    const svg = await renderFigure({ kind: 'digits', title: 't', images: [images[0]], captions: ['<b>7</b> & co'] })
    expect(svg).toContain('&lt;b&gt;7&lt;/b&gt; &amp; co')
    expect(svg).not.toContain('<b>')
  })

  it('draws at most MAX_DIGITS and says so in the title', () => {
    const many = Array.from({ length: MAX_DIGITS + 6 }, (_, i) => images[i % images.length])
    const spec = digitsSpec({ kind: 'digits', title: 'All', images: many, captions: many.map(String) }) as { title: string; layer: { data: { values: unknown[] } }[] }
    expect(spec.title).toBe(`All (first ${MAX_DIGITS} of ${MAX_DIGITS + 6})`)
    expect(spec.layer[0].data.values).toHaveLength(MAX_DIGITS)
  })

  it('rejects images of the wrong size and a caption count that differs', () => {
    expect(() => digitsSpec({ kind: 'digits', title: 't', images: [[0.5, 0.5]], captions: ['x'] })).toThrow(ValueError)
    expect(() => digitsSpec({ kind: 'digits', title: 't', images: [[0.5, 0.5]], captions: ['x'] })).toThrow(/image 0 has 2 values, expected 784/)
    expect(() => digitsSpec({ kind: 'digits', title: 't', images: [images[0]], captions: [] })).toThrow(/1 images and 0 captions/)
  })
})
