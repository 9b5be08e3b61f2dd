/**
 * @file The optimiser interface: a gradient transformation is a pair of pure functions, `init` and
 * `update`, over parameter pytrees (optax's design). Also `chain`, `masked`, `applyUpdates`, the
 * parameter filters that decide which leaves are weights, and the leaf-wise mapping helper the
 * building blocks share. Imports tensor/, autodiff/ops and tree/ only.
 *
 * Conventions every transformation in optim/ follows:
 * - Nothing is mutated. `update` returns new updates and a new state; the inputs are left as they
 *   were, so an old state can be replayed or compared.
 * - A state is a pytree of tensors and nothing else (stateless transformations use `{}`). Step
 *   counters are float64 scalar tensors named `count`, so a whole optimiser state can be flattened
 *   with `treeLeaves` and stored in a checkpoint next to the parameters.
 * - Updates are what gets added to the parameters: an optimiser's output already points downhill
 *   (it contains −η), and `applyUpdates` adds it.
 */
import { add, cast } from '../autodiff/ops/elementwise.js'
import { ShapeError, TreeError, showShape } from '../errors.js'
import type { Tensor } from '../tensor/Tensor.js'
import { shapesEqual } from '../tensor/shape.js'
import { type TreeDef, treeFlatten, treeLeavesAs, treePaths, treeUnflatten } from '../tree/tree.js'

// ---- the interface ----

/**
 * A gradient transformation: `init(params) → state` and `update(updates, state, params?) →
 * [updates, state]`, both pure. `updates` enters as the gradient tree and leaves as the (possibly
 * rescaled, clipped, momentum-averaged …) tree handed to the next transformation or to
 * `applyUpdates`. `params`, the current parameters, is needed only by transformations that look at
 * the weights (`l2`, `addDecayedWeights`, `adamw`).
 *
 * @example
 * const opt = optim.adam(1e-3)
 * let state = opt.init(params)
 * const [updates, next] = opt.update(grads, state, params)
 * params = optim.applyUpdates(params, updates); state = next
 * @category optimizers
 */
export interface GradientTransformation<S = unknown> {
  /** The initial state for parameters shaped like `params` (zeros for moments, count 0). */
  init<P>(params: P): S
  /** Transforms `updates` (a tree shaped like the parameters); returns them with the next state. */
  update<U>(updates: U, state: S, params?: U): readonly [U, S]
}

/** The state type of a gradient transformation. */
export type StateOf<T> = T extends GradientTransformation<infer S> ? S : never

/** The state of a transformation that keeps none. */
export type EmptyState = Readonly<Record<string, never>>

// ---- parameter filters ----

/** What a parameter filter sees about one leaf. */
export interface LeafInfo {
  /** The leaf's path in the tree, as `treePaths` writes it, e.g. `.layers[0].wTime`. */
  readonly path: string
  /** The last object key on the path (array indices skipped), e.g. `wTime`; `''` for a root leaf. */
  readonly name: string
  readonly leaf: Tensor
}

/** Decides whether a transformation applies to a leaf. */
export type ParamFilter = (info: LeafInfo) => boolean

/**
 * The default filter of `l2`: a leaf is a weight unless it is a bias, and it is a bias when its
 * name starts with a lower-case `b` (`b`, `bLayer`, `bTime`, `bias_ih_l0`) or contains `bias` in
 * any case (`outputBias`). Only the name (the last object key) is looked at, so a weight inside a
 * parameter group called `blocks` is still a weight; a bare array of tensors takes the name of its
 * key (`{ b: [b1, b2] }` holds two biases).
 * @example
 * ```ts
 * const leaf = zeros([2])
 * console.log(optim.isWeight({ path: '.layers[0].wLayer', name: 'wLayer', leaf })) // true
 * console.log(optim.isWeight({ path: '.head.outputBias', name: 'outputBias', leaf })) // false
 * ```
 * @category optimizers
 */
export const isWeight: ParamFilter = ({ name }) => !(name.startsWith('b') || /bias/i.test(name))

/**
 * Every leaf (the default of `addDecayedWeights` and `adamw`, as in PyTorch).
 * @example
 * ```ts
 * const decay = optim.addDecayedWeights(0.1, { filter: optim.allLeaves }) // biases decay too
 * const params = { w: tensor([1, 2]), b: tensor([10]) }
 * const [updates] = decay.update({ w: zeros([2]), b: zeros([1]) }, decay.init(params), params)
 * console.log(updates.w.toArray(), updates.b.toArray()) // [0.1, 0.2] [1]
 * ```
 * @category optimizers
 */
export const allLeaves: ParamFilter = () => true

/** Path and name of every leaf of a structure, in flattening order. */
const leafInfos = (def: TreeDef): { path: string; name: string }[] => {
  const names: string[] = []
  const walk = (d: TreeDef, name: string): void => {
    switch (d.kind) {
      case 'leaf':
        names.push(name)
        return
      case 'empty':
        return
      case 'array':
        d.children.forEach((c) => walk(c, name))
        return
      case 'object':
        d.children.forEach((c, i) => walk(c, d.keys[i]))
    }
  }
  walk(def, '')
  const paths = treePaths(def)
  return names.map((name, i) => ({ path: paths[i], name }))
}

/** For each leaf of `tree` (in flattening order), whether `filter` selects it. */
export const selectLeaves = (who: string, tree: unknown, filter: ParamFilter): boolean[] => {
  const { leaves, def } = treeFlatten(tree, who)
  return leafInfos(def).map((info, i) => filter({ ...info, leaf: leaves[i] }) === true)
}

// ---- leaf-wise mapping with checked structure ----

const STATE_HINT =
  'Create the state with init(params) from the same parameter tree, and pass updates (gradients) and params shaped like it.'

/**
 * Applies `f` leaf by leaf to `updates` and to trees that must match it (a state's moments, the
 * parameters), keyed by the name used in errors (`state.mu`, `params`). Unlike a bare `treeMap`, it
 * refuses leaves whose shapes differ, which elementwise ops would otherwise broadcast silently.
 * `primary` names the first tree in messages.
 */
export const mapUpdates = <R = Tensor>(
  who: string,
  f: (u: Tensor, ...others: Tensor[]) => R,
  updates: unknown,
  others: Readonly<Record<string, unknown>> = {},
  primary = 'updates',
): unknown => {
  const { leaves, def } = treeFlatten(updates, `${who}: ${primary}`)
  const otherLeaves = Object.entries(others).map(([name, tree]) => {
    let matched: Tensor[]
    try {
      matched = treeLeavesAs(def, tree, `${who}: ${name}`)
    } catch (e) {
      if (e instanceof TreeError) throw new TreeError(`${e.message} ${STATE_HINT}`)
      throw e
    }
    matched.forEach((x, i) => {
      if (!shapesEqual(x.shape, leaves[i].shape)) {
        const path = treePaths(def)[i]
        throw new ShapeError(
          `${who}: ${name} and ${primary} differ in shape at ${path}: ${name} has ${showShape(x.shape)}, ` +
            `${primary} has ${showShape(leaves[i].shape)}. ${STATE_HINT}`,
        )
      }
    })
    return matched
  })
  return treeUnflatten(def, leaves.map((u, i) => f(u, ...otherLeaves.map((ls) => ls[i]))))
}

// ---- combinators ----

/**
 * Runs transformations one after another: `chain(a, b)` feeds the updates returned by `a` into `b`,
 * so the left-most transformation sees the raw gradients and the right-most produces the final
 * updates. Order matters: `chain(clipByGlobalNorm(1), scale(−0.1))` clips the gradient then steps
 * (updates have norm ≤ 0.1), while `chain(scale(−0.1), clipByGlobalNorm(1))` clips the step (norm
 * ≤ 1). The state is the array of the inner states, in the same order.
 * @example
 * ```ts
 * const opt = optim.chain(optim.clipByGlobalNorm(1), optim.scale(-0.1))
 * const [updates, state] = opt.update({ w: tensor([30, 40]) }, opt.init({}))
 * console.log(updates.w.toArray(), state) // [-0.06, -0.08] [{}, {}]: clipped to norm 1, then scaled
 * const adam = optim.chain(optim.clipByGlobalNorm(1), optim.scaleByAdam(), optim.scaleByLearningRate(1e-3))
 * ```
 * @category optimizers
 */
export function chain<const Ts extends readonly GradientTransformation<any>[]>(
  ...transforms: Ts
): GradientTransformation<{ -readonly [K in keyof Ts]: StateOf<Ts[K]> }> {
  type S = { -readonly [K in keyof Ts]: StateOf<Ts[K]> }
  return {
    init: (params) => transforms.map((t) => t.init(params)) as unknown as S,
    update: (updates, state, params) => {
      const states = state as unknown as readonly unknown[]
      if (!Array.isArray(states) || states.length !== transforms.length) {
        throw new TreeError(
          `optim.chain: the state must be an array of ${transforms.length} inner states (one per transformation), ` +
            `got ${Array.isArray(states) ? `an array of ${states.length}` : typeof states}. ${STATE_HINT}`,
        )
      }
      let current = updates
      const next = transforms.map((t, i) => {
        const [u, s] = t.update(current, states[i], params)
        current = u
        return s
      })
      return [current, next as unknown as S]
    },
  }
}

/** Replaces the leaves a mask leaves out by null, so inner transformations skip them. */
const maskedView = (def: TreeDef, leaves: readonly Tensor[], keep: readonly boolean[]): unknown =>
  treeUnflatten(def, leaves.map((x, i) => (keep[i] ? x : null)))

/**
 * Applies `inner` only to the leaves that `filter` selects; the others pass through unchanged and
 * get no inner state (null in its place). The filter is evaluated on the parameters in `init` and
 * on the updates in `update`; both have the same paths and shapes.
 * @example
 * ```ts
 * const opt = optim.masked(optim.addDecayedWeights(0.1), optim.isWeight) // decay weights, not biases
 * const params = { wLayer: tensor([1]), bLayer: tensor([1]) }
 * const [updates] = opt.update({ wLayer: zeros([1]), bLayer: zeros([1]) }, opt.init(params), params)
 * console.log(updates.wLayer.toArray(), updates.bLayer.toArray()) // [0.1] [0]
 * ```
 * @category optimizers
 */
export const masked = <S>(inner: GradientTransformation<S>, filter: ParamFilter): GradientTransformation<S> => ({
  init: (params) => {
    const { leaves, def } = treeFlatten(params, 'optim.masked.init: params')
    return inner.init(maskedView(def, leaves, selectLeaves('optim.masked.init: params', params, filter)))
  },
  update: (updates, state, params) => {
    const { leaves, def } = treeFlatten(updates, 'optim.masked.update: updates')
    const keep = selectLeaves('optim.masked.update: updates', updates, filter)
    const paramsView = params === undefined ? undefined : maskedView(def, treeLeavesAs(def, params, 'optim.masked.update: params'), keep)
    const [innerUpdates, next] = inner.update(maskedView(def, leaves, keep), state, paramsView)
    const innerLeaves = treeFlatten(innerUpdates, 'optim.masked.update: inner updates').leaves
    let k = 0
    const merged = leaves.map((u, i) => (keep[i] ? innerLeaves[k++] : u))
    if (k !== innerLeaves.length) {
      throw new TreeError(`optim.masked: the inner transformation returned ${innerLeaves.length} leaves for ${k} selected ones; it must keep the tree's structure.`)
    }
    return [treeUnflatten(def, merged), next]
  },
})

/**
 * Adds updates to parameters leaf by leaf, `p + u`, returning a new tree (nothing is mutated). Each
 * update is cast to its parameter's dtype first, so float32 parameters stay float32.
 * @example
 * ```ts
 * const params = { w: tensor([1, 2]), b: tensor([0.5]) }
 * const grads = grad((p: typeof params) => sum(square(p.w)))(params) // ∂/∂w = 2w, ∂/∂b = 0
 * const opt = optim.sgd(0.1)
 * const [updates] = opt.update(grads, opt.init(params))
 * const next = optim.applyUpdates(params, updates)
 * console.log(next.w.toArray(), next.b.toArray()) // [0.8, 1.6] [0.5]
 * ```
 * @category optimizers
 */
export const applyUpdates = <P>(params: P, updates: unknown): P =>
  mapUpdates('optim.applyUpdates', (p, u) => add(p, cast(u, p.dtype)), params, { updates }, 'params') as P
