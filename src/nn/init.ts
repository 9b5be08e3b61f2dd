/**
 * @file Parameter initialisers and parameter declarations. A layer declares its parameters as
 * shapes (`ParamShapes`); `initParams` draws each from its own split of one key, so the same key
 * always gives the same parameters. Imports random/ and ops only.
 */
import { ShapeError, TreeError, ValueError, showShape } from '../errors.js'
import { mul } from '../autodiff/ops/elementwise.js'
import { type Key, normal as normalSample, splitKey, uniform as uniformSample } from '../random/random.js'
import { type DType, Tensor } from '../tensor/Tensor.js'
import { full } from '../tensor/creation.js'
import type { Shape } from '../tensor/shape.js'

/** A flat parameter record: one tensor per name. @category model */
export type Params = { readonly [name: string]: Tensor }

/** Declared parameter shapes by name; rank-1 entries are biases, the others weights. @category model */
export type ParamShapes = { readonly [name: string]: Shape }

/** What an initialiser is told about the tensor it draws. */
export interface InitInfo {
  readonly dtype: DType
  /** Rank-1 parameters are biases; everything else is a weight. */
  readonly role: 'weight' | 'bias'
  /** The parameter's name inside its layer (before stacking suffixes), e.g. `wTime`. */
  readonly name: string
}

/** Draws one parameter tensor of `shape`. @category init */
export type Initializer = (key: Key, shape: Shape, info: InitInfo) => Tensor

/** Options common to every `init(key, options)`. */
export interface InitOptions {
  /** Default 'float64'. */
  readonly dtype?: DType
}

/**
 * Initialisers: each returns an `Initializer`.
 * - `seed`: weights ~ N(0, 1), biases ~ 0.01·N(0, 1), as the seed system does.
 * - `uniform(bound)`: every entry ~ U(−bound, bound) (PyTorch's recurrent default with bound 1/√hidden).
 * - `normal(std, biasStd = std)`: weights ~ std·N(0, 1), biases ~ biasStd·N(0, 1).
 * - `zeros`: all zeros.
 * @example
 * ```ts
 * const w = nn.init.uniform(0.1)(randomKey(0), [3, 4], { dtype: 'float64', role: 'weight', name: 'w' })
 * console.log(w.shape, w.data.every((v) => Math.abs(v) <= 0.1)) // [3, 4] true
 * const layer = nn.lstm({ inputSize: 2, hiddenSize: 4, init: nn.init.normal(0.1, 0) }) // weights 0.1·N(0, 1), biases 0
 * console.log(layer.init(randomKey(0)).bias_ih_l0.data.every((v) => v === 0)) // true
 * ```
 * @category init
 */
export const init = {
  seed: ((key, shape, { dtype, role }) =>
    role === 'bias' ? mul(normalSample(key, shape, { dtype }), 0.01) : normalSample(key, shape, { dtype })) as Initializer,
  uniform: (bound: number): Initializer => {
    if (!(bound > 0) || !Number.isFinite(bound)) throw new ValueError(`nn.init.uniform: the bound must be a positive number, got ${bound}.`)
    return (key, shape, { dtype }) => uniformSample(key, shape, { low: -bound, high: bound, dtype })
  },
  normal: (std: number, biasStd: number = std): Initializer =>
    (key, shape, { dtype, role }) => mul(normalSample(key, shape, { dtype }), role === 'bias' ? biasStd : std),
  zeros: ((_key, shape, { dtype }) => full(shape, 0, { dtype })) as Initializer,
} as const

/**
 * Draws every declared parameter, each from its own split of `key` (in declaration order).
 * @example
 * ```ts
 * const params = nn.initParams(randomKey(0), { w: [2, 3], b: [3] }, nn.init.normal(0.1, 0))
 * console.log(params.w.shape, params.b.toArray()) // [2, 3] [0, 0, 0], rank-1 entries being biases
 * const again = nn.initParams(randomKey(0), { w: [2, 3], b: [3] }, nn.init.normal(0.1, 0))
 * console.log(again.w.data.join() === params.w.data.join()) // true: the same key gives the same parameters
 * ```
 * @category init
 */
export const initParams = (key: Key, shapes: ParamShapes, initializer: Initializer, dtype: DType = 'float64'): Params => {
  const names = Object.keys(shapes)
  const keys = splitKey(key, Math.max(names.length, 1))
  return Object.fromEntries(
    names.map((name, i) => {
      const shape = shapes[name]
      const value = initializer(keys[i], shape, { dtype, role: shape.length === 1 ? 'bias' : 'weight', name })
      return [name, value]
    }),
  )
}

/**
 * Checks that `params` has exactly the declared names and shapes; throws a message listing every
 * difference. `fullName` maps a declared name to the name the user sees (e.g. with `_l1_reverse`).
 * @example
 * ```ts
 * const shapes = { w: [2, 3], b: [3] }
 * const params = nn.checkParams('myLayer', { w: zeros([2, 3]), b: zeros([3]) }, shapes) // typed as nn.Params
 * try {
 *   nn.checkParams('myLayer', { w: zeros([3, 2]), bias: zeros([3]) }, shapes)
 * } catch (e) {
 *   console.log((e as Error).message)
 *   // myLayer: the parameters do not match the layer:
 *   //   * missing b (expected shape [3])
 *   //   * w: expected shape [2, 3], got [3, 2]
 *   //   * unexpected parameter bias
 *   // Create them with the layer's init(key), or load tensors with these names and shapes (w, b).
 * }
 * ```
 * @category init
 */
export const checkParams = (who: string, params: unknown, shapes: ParamShapes, fullName: (name: string) => string = (n) => n): Params => {
  const expected = Object.keys(shapes).map(fullName).join(', ')
  if (params === null || typeof params !== 'object' || Array.isArray(params)) {
    const seen = params === null ? 'null' : Array.isArray(params) ? 'an array' : typeof params
    throw new TreeError(`${who}: params must be a flat object of tensors keyed by name (${expected}), got ${seen}.`)
  }
  const record = params as Record<string, unknown>
  const missing: string[] = []
  const wrongShape: string[] = []
  for (const [name, shape] of Object.entries(shapes)) {
    const p = record[name]
    if (!(p instanceof Tensor)) missing.push(`${p === undefined ? 'missing' : 'not a Tensor:'} ${fullName(name)} (expected shape ${showShape(shape)})`)
    else if (p.shape.length !== shape.length || p.shape.some((d, i) => d !== shape[i])) {
      wrongShape.push(`${fullName(name)}: expected shape ${showShape(shape)}, got ${showShape(p.shape)}`)
    }
  }
  const unexpected = Object.keys(record).filter((name) => !Object.hasOwn(shapes, name)).map((n) => `unexpected parameter ${fullName(n)}`)
  const problems = [...missing, ...wrongShape, ...unexpected]
  if (problems.length > 0) {
    const message = `${who}: the parameters do not match the layer:\n${problems.map((p) => `  * ${p}`).join('\n')}\n` +
      `Create them with the layer's init(key), or load tensors with these names and shapes (${expected}).`
    throw missing.length + unexpected.length === 0 ? new ShapeError(message) : new TreeError(message)
  }
  return record as Params
}
