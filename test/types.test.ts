/**
 * @file Types: gradients have the type of what they differentiate. These assertions are checked by
 * `tsc` (the test bodies also run, so the values are real): `.ci/run` runs `tsc -p tsconfig.json`
 * before vitest, and the last test here checks that it does.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { type Tensor, add, grad, hvp, mul, sum, tensor, treeMap, valueAndGrad, vjp } from '../src/index.js'

interface Params {
  readonly w: Tensor
  readonly layers: readonly { readonly b: Tensor; readonly gain: Tensor | null }[]
}

const params: Params = { w: tensor([1, 2]), layers: [{ b: tensor(0), gain: null }] }
const loss = (p: Params, x: Tensor): Tensor => sum(mul(add(p.w, p.layers[0].b), x))
const x = tensor([3, 4])

describe('types', () => {
  it('grad(f)(params) has the type of params', () => {
    expectTypeOf(grad(loss)(params, x)).toEqualTypeOf<Params>()
    expectTypeOf(grad((v: Tensor) => sum(v))(x)).toEqualTypeOf<Tensor>()
  })

  it('argnums selects the types, a tuple for an array', () => {
    expectTypeOf(grad(loss, { argnums: 1 })(params, x)).toEqualTypeOf<Tensor>()
    expectTypeOf(grad(loss, { argnums: [0, 1] })(params, x)).toEqualTypeOf<[Params, Tensor]>()
  })

  it('valueAndGrad, hasAux, vjp and hvp', () => {
    expectTypeOf(valueAndGrad(loss)(params, x)).toEqualTypeOf<[Tensor, Params]>()
    const withAux = valueAndGrad((p: Params) => [sum(p.w), { note: 'aux' }] as const, { hasAux: true })(params)
    expectTypeOf(withAux).toEqualTypeOf<[[Tensor, { readonly note: 'aux' }], Params]>()
    const [, pullback] = vjp(loss, params, x)
    expectTypeOf(pullback(tensor(1))).toEqualTypeOf<[Params, Tensor]>()
    expectTypeOf(hvp((p: Params) => loss(p, x))(params, params)).toEqualTypeOf<Params>()
  })

  it('treeMap keeps the structure and maps the leaf type', () => {
    expectTypeOf(treeMap((t) => t.size, params)).toEqualTypeOf<{ w: number; layers: { b: number; gain: number | null }[] }>()
  })

  it('rejects functions that do not return a tensor', () => {
    // @ts-expect-error grad needs a function returning a Tensor
    grad((p: Params) => p.w.size)
  })

  it('are type-checked in CI: .ci/run runs tsc over tsconfig.json, which covers test/, before vitest', () => {
    const ci = readFileSync('.ci/run', 'utf8').split('\n').filter((l) => !l.trimStart().startsWith('#'))
    const tsc = ci.findIndex((l) => /^npx tsc --noEmit -p tsconfig\.json\b/.test(l.trim()))
    const vitest = ci.findIndex((l) => /^npx vitest run\b/.test(l.trim()))
    expect(tsc, '.ci/run has no `npx tsc --noEmit -p tsconfig.json` line').toBeGreaterThanOrEqual(0)
    expect(tsc).toBeLessThan(vitest)
    expect(JSON.parse(readFileSync('tsconfig.json', 'utf8')).include).toContain('test')
  })
})
