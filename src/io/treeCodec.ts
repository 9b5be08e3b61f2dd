/**
 * @file How pytrees are written into files: a path-like safetensors name for every leaf, and the
 * tree's structure (TreeDef) as JSON with its io-ts codec, so a tree is rebuilt exactly: key
 * order, arrays, null and undefined subtrees. Pure. Imports tree/ and io-ts.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import type { TreeDef } from '../tree/tree.js'
import { struct, taggedUnion } from './config.js'

// ---- tensor names ----

/**
 * The safetensors name of every leaf of a tree, in flattening order: the root name, then one
 * `.segment` per level, an object key or an array index (`optState.0.mu.wIn`). In keys, `%` is
 * written `%25` and `.` is written `%2E`, so segments never contain a dot and names are unique.
 * @example
 * ```ts
 * const { def } = treeFlatten({ w: zeros([2]), layers: [{ b: zeros([1]) }, { 'b.1': zeros([1]) }] })
 * console.log(io.leafNames(def, 'params')) // ['params.w', 'params.layers.0.b', 'params.layers.1.b%2E1']
 * ```
 * @category io
 */
export const leafNames = (def: TreeDef, root: string): string[] => {
  switch (def.kind) {
    case 'leaf':
      return [root]
    case 'empty':
      return []
    case 'array':
      return def.children.flatMap((c, i) => leafNames(c, `${root}.${i}`))
    case 'object':
      return def.children.flatMap((c, i) => leafNames(c, `${root}.${def.keys[i].replace(/%/g, '%25').replace(/\./g, '%2E')}`))
  }
}

// ---- structures as JSON ----

/** A TreeDef as JSON: `undefined` cannot be a JSON value, so empty leaves get kinds of their own. */
export type TreeDefJson =
  | { readonly kind: 'leaf' }
  | { readonly kind: 'null' }
  | { readonly kind: 'undefined' }
  | { readonly kind: 'array'; readonly children: readonly TreeDefJson[] }
  | { readonly kind: 'object'; readonly keys: readonly string[]; readonly children: readonly TreeDefJson[] }

/**
 * A tree structure as JSON, e.g. `{ w: x, b: null }` → `{ kind: 'object', keys: ['w', 'b'],
 * children: [{ kind: 'leaf' }, { kind: 'null' }] }`. Keys stay in a list because JS objects would
 * move integer-like keys first.
 * @category io
 */
export const treeDefToJson = (def: TreeDef): TreeDefJson => {
  switch (def.kind) {
    case 'leaf':
      return { kind: 'leaf' }
    case 'empty':
      return { kind: def.value === null ? 'null' : 'undefined' }
    case 'array':
      return { kind: 'array', children: def.children.map(treeDefToJson) }
    case 'object':
      return { kind: 'object', keys: def.keys, children: def.children.map(treeDefToJson) }
  }
}

/** The inverse of `treeDefToJson` (the JSON must have been checked with `TreeDefCodec`). @category io */
export const treeDefFromJson = (json: TreeDefJson): TreeDef => {
  switch (json.kind) {
    case 'leaf':
      return { kind: 'leaf' }
    case 'null':
      return { kind: 'empty', value: null }
    case 'undefined':
      return { kind: 'empty', value: undefined }
    case 'array':
      return { kind: 'array', children: json.children.map(treeDefFromJson) }
    case 'object':
      return { kind: 'object', keys: json.keys, children: json.children.map(treeDefFromJson) }
  }
}

/** An object node: as many children as keys, and no key twice. */
const ObjectNode = (self: t.Type<TreeDefJson, unknown, unknown>): t.Type<TreeDefJson, unknown, unknown> => {
  const base = struct({ kind: t.literal('object'), keys: t.array(t.string, 'a list of strings'), children: t.array(self, 'a list of tree structures') })
  const validate = (u: unknown, c: t.Context): t.Validation<TreeDefJson> => {
    const result = base.validate(u, c)
    if (E.isLeft(result)) return result
    const { keys, children } = result.right
    if (keys.length !== children.length) return t.failure(u, c, `an object node needs one child per key, got ${keys.length} keys and ${children.length} children`)
    if (new Set(keys).size !== keys.length) return t.failure(u, c, 'an object node lists a key twice')
    return t.success(result.right as TreeDefJson)
  }
  return new t.Type<TreeDefJson, unknown, unknown>('an object node', (u): u is TreeDefJson => E.isRight(validate(u, [])), validate, t.identity)
}

/** The io-ts codec of `TreeDefJson`; reports the path of the first bad node. @category codecs */
export const TreeDefCodec: t.Type<TreeDefJson, unknown, unknown> = t.recursion('a tree structure', (self) =>
  taggedUnion('kind', {
    leaf: struct({ kind: t.literal('leaf') }),
    null: struct({ kind: t.literal('null') }),
    undefined: struct({ kind: t.literal('undefined') }),
    array: struct({ kind: t.literal('array'), children: t.array(self, 'a list of tree structures') }),
    object: ObjectNode(self),
  }) as t.Type<TreeDefJson, unknown, unknown>,
)
