/**
 * @file Pytrees: nested plain objects and arrays whose leaves are tensors (a model's parameters, a
 * scan carry, an optimiser state). `null` and `undefined` are empty subtrees. Imports only tensor/.
 */
import { TreeError } from '../errors.js'
import { Tensor } from '../tensor/Tensor.js'

/** A nested structure of plain objects and arrays with leaves of type L. @category trees */
export type Tree<L = Tensor> = L | null | undefined | readonly Tree<L>[] | { readonly [key: string]: Tree<L> }

/** Maps every Tensor leaf of a tree type to R, keeping its structure (used for gradients, updates). @category trees */
export type MapLeaves<T, R> = T extends Tensor
  ? R
  : T extends null | undefined
    ? T
    : T extends readonly unknown[]
      ? { -readonly [K in keyof T]: MapLeaves<T[K], R> }
      : T extends object
        ? { -readonly [K in keyof T]: MapLeaves<T[K], R> }
        : never

/** The structure of a tree without its leaves. @category trees */
export type TreeDef =
  | { readonly kind: 'leaf' }
  | { readonly kind: 'empty'; readonly value: null | undefined }
  | { readonly kind: 'array'; readonly children: readonly TreeDef[] }
  | { readonly kind: 'object'; readonly keys: readonly string[]; readonly children: readonly TreeDef[] }

const LEAF: TreeDef = { kind: 'leaf' }

const describe = (x: unknown): string =>
  x === null ? 'null' : Array.isArray(x) ? 'an array' : typeof x === 'object' ? `an object (${Object.getPrototypeOf(x)?.constructor?.name ?? 'no prototype'})` : `a ${typeof x}`

const isPlainObject = (x: unknown): x is Record<string, unknown> => {
  if (typeof x !== 'object' || x === null) return false
  const proto = Object.getPrototypeOf(x)
  return proto === Object.prototype || proto === null
}

/** Formats a path segment the way a reader would write it in code. */
const childPath = (path: string, key: string | number): string =>
  typeof key === 'number' ? `${path}[${key}]` : /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`

/**
 * Splits a tree into its tensor leaves (depth first, object keys in insertion order) and its
 * structure. `where` names the tree in errors, e.g. `grad: argument 0`.
 * @example
 * ```ts
 * const params = { w: tensor([1, 2]), layers: [{ b: scalar(3) }, null] }
 * const { leaves, def } = treeFlatten(params)
 * leaves.length            // 2
 * treePaths(def, 'params') // ['params.w', 'params.layers[0].b']
 * ```
 * @category trees
 */
export const treeFlatten = (tree: unknown, where = 'tree'): { leaves: Tensor[]; def: TreeDef } => {
  const leaves: Tensor[] = []
  const walk = (node: unknown, path: string): TreeDef => {
    if (node instanceof Tensor) {
      leaves.push(node)
      return LEAF
    }
    if (node === null || node === undefined) return { kind: 'empty', value: node }
    if (Array.isArray(node)) return { kind: 'array', children: node.map((c, i) => walk(c, childPath(path, i))) }
    if (isPlainObject(node)) {
      const keys = Object.keys(node)
      return { kind: 'object', keys, children: keys.map((k) => walk(node[k], childPath(path, k))) }
    }
    throw new TreeError(
      `${where}: the leaf at ${path || '(root)'} is ${describe(node)}, expected a Tensor. ` +
        'Trees may hold only tensors, plain objects, arrays and null; wrap numbers with tensor(...).',
    )
  }
  const def = walk(tree, '')
  return { leaves, def }
}

/**
 * Rebuilds a tree from its structure and leaves (the inverse of treeFlatten).
 * @example
 * ```ts
 * const { leaves, def } = treeFlatten({ w: tensor([1, 2]), b: scalar(3) })
 * const doubled = treeUnflatten<{ w: Tensor; b: Tensor }>(def, leaves.map((x) => mul(x, 2)))
 * doubled.w.toArray() // [2, 4]
 * doubled.b.item()    // 6
 * ```
 * @category trees
 */
export const treeUnflatten = <T = unknown>(def: TreeDef, leaves: readonly unknown[]): T => {
  let next = 0
  const build = (d: TreeDef): unknown => {
    switch (d.kind) {
      case 'leaf':
        return leaves[next++]
      case 'empty':
        return d.value
      case 'array':
        return d.children.map(build)
      case 'object':
        return Object.fromEntries(d.keys.map((k, i) => [k, build(d.children[i])]))
    }
  }
  const tree = build(def)
  if (next !== leaves.length) throw new TreeError(`treeUnflatten: the structure has ${next} leaves but ${leaves.length} were given.`)
  return tree as T
}

/**
 * The tensor leaves of a tree, depth first.
 * @example
 * ```ts
 * const params = { w: zeros([3, 2]), b: zeros([2]) }
 * treeLeaves(params).reduce((n, x) => n + x.size, 0) // 8: the number of parameters
 * ```
 * @category trees
 */
export const treeLeaves = (tree: unknown, where = 'treeLeaves'): Tensor[] => treeFlatten(tree, where).leaves

/** Describes the first difference between two structures, or returns null when they match. */
export const treeDefDifference = (a: TreeDef, b: TreeDef, path = ''): string | null => {
  const at = path || '(root)'
  if (a.kind !== b.kind) return `at ${at}: ${a.kind} vs ${b.kind}`
  if (a.kind === 'array' && b.kind === 'array') {
    if (a.children.length !== b.children.length) return `at ${at}: arrays of length ${a.children.length} vs ${b.children.length}`
    for (let i = 0; i < a.children.length; i++) {
      const d = treeDefDifference(a.children[i], b.children[i], childPath(path, i))
      if (d !== null) return d
    }
  }
  if (a.kind === 'object' && b.kind === 'object') {
    const missing = a.keys.filter((k) => !b.keys.includes(k))
    const extra = b.keys.filter((k) => !a.keys.includes(k))
    if (missing.length > 0 || extra.length > 0) {
      return `at ${at}: keys differ (only in the first: ${missing.join(', ') || 'none'}; only in the second: ${extra.join(', ') || 'none'})`
    }
    for (let i = 0; i < a.keys.length; i++) {
      const d = treeDefDifference(a.children[i], b.children[b.keys.indexOf(a.keys[i])], childPath(path, a.keys[i]))
      if (d !== null) return d
    }
  }
  return null
}

/**
 * The path of every leaf, in flattening order (for reports such as checkGrads').
 * @example
 * ```ts
 * treePaths(treeFlatten({ cell: { wIn: zeros([2, 2]) }, head: [zeros([2])] }).def) // ['.cell.wIn', '.head[0]']
 * treePaths(treeFlatten([zeros([1])]).def, 'grads')                                // ['grads[0]']
 * ```
 * @category trees
 */
export const treePaths = (def: TreeDef, root = ''): string[] => {
  switch (def.kind) {
    case 'leaf':
      return [root || '(root)']
    case 'empty':
      return []
    case 'array':
      return def.children.flatMap((c, i) => treePaths(c, childPath(root, i)))
    case 'object':
      return def.children.flatMap((c, i) => treePaths(c, childPath(root, def.keys[i])))
  }
}

/**
 * Applies `f` leaf by leaf across one or more trees of the same structure, returning a tree of
 * that structure. Object keys of the later trees are matched by name.
 * @example
 * ```ts
 * const params = { w: tensor([1, 2]), b: scalar(0.5) }
 * const grads = { w: tensor([10, -10]), b: scalar(1) }
 * const next = treeMap((p, g) => sub(p, mul(g, 0.1)), params, grads) // one step of gradient descent
 * next.w.toArray() // [0, 3]
 * next.b.item()    // 0.4
 * ```
 * @category trees
 */
export function treeMap<T, R>(f: (x: Tensor) => R, tree: T): MapLeaves<T, R>
export function treeMap<T, R>(f: (x: Tensor, y: Tensor) => R, tree: T, other: unknown): MapLeaves<T, R>
export function treeMap<T, R>(f: (...xs: Tensor[]) => R, tree: T, ...others: unknown[]): MapLeaves<T, R>
export function treeMap<T, R>(f: (...xs: Tensor[]) => R, tree: T, ...others: unknown[]): MapLeaves<T, R> {
  const { leaves, def } = treeFlatten(tree, 'treeMap')
  const otherLeaves = others.map((o, i) => treeLeavesAs(def, o, `treeMap: tree ${i + 1}`))
  return treeUnflatten(def, leaves.map((x, j) => f(x, ...otherLeaves.map((ls) => ls[j]))))
}

/**
 * The leaves of `tree` in the order `def` would flatten them, matching object keys by name; throws
 * a TreeError naming the first difference when the structures differ.
 * @example
 * ```ts
 * const { def } = treeFlatten({ w: tensor([1]), b: tensor([2]) })
 * treeLeavesAs(def, { b: tensor([20]), w: tensor([10]) }, 'grads').map((x) => x.item()) // [10, 20]: in def's order
 * ```
 * @category trees
 */
export const treeLeavesAs = (def: TreeDef, tree: unknown, where: string): Tensor[] => {
  const diff = treeDefDifference(def, treeFlatten(tree, where).def)
  if (diff !== null) throw new TreeError(`${where} does not have the expected structure: ${diff}.`)
  return treeLeaves(reorder(def, tree), where)
}

/** Rebuilds `tree` with its object keys in the order of `def`, so leaves line up by name. */
const reorder = (def: TreeDef, tree: unknown): unknown => {
  switch (def.kind) {
    case 'leaf':
    case 'empty':
      return tree
    case 'array':
      return def.children.map((c, i) => reorder(c, (tree as unknown[])[i]))
    case 'object':
      return Object.fromEntries(def.keys.map((k, i) => [k, reorder(def.children[i], (tree as Record<string, unknown>)[k])]))
  }
}
