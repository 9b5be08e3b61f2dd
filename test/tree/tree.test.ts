/**
 * @file Pytrees: flatten/unflatten round trips, leaf paths, treeMap over several trees matched by
 * key name, and the errors for mismatched structures.
 */
import { describe, expect, it } from 'vitest'
import { type Tensor, TreeError, add, tensor, treeFlatten, treeLeaves, treeLeavesAs, treeMap, treePaths, treeUnflatten } from '../../src/index.js'

const t = (v: number) => tensor(v)

describe('tree', () => {
  const tree = { w: t(1), layers: [{ b: t(2), gain: null }, { b: t(3), 'odd key': t(4) }], end: undefined }

  it('flattens depth first in key order and unflattens to an equal tree', () => {
    const { leaves, def } = treeFlatten(tree)
    expect(leaves.map((x) => x.item())).toEqual([1, 2, 3, 4])
    const back = treeUnflatten<typeof tree>(def, leaves)
    expect(back).toEqual(tree)
    expect(treeLeaves(null)).toEqual([])
    expect(treeLeaves(t(5)).length).toBe(1)
  })

  it('names every leaf by its path', () => {
    expect(treePaths(treeFlatten(tree).def, 'params')).toEqual(['params.w', 'params.layers[0].b', 'params.layers[1].b', 'params.layers[1]["odd key"]'])
    expect(treePaths(treeFlatten(t(1)).def)).toEqual(['(root)'])
  })

  it('treeMap maps one or several trees, matching object keys by name', () => {
    const a = { x: t(1), y: [t(2)] }
    const b = { y: [t(20)], x: t(10) }
    const sum = treeMap((p: Tensor, q: Tensor) => add(p, q), a, b)
    expect(sum.x.item()).toBe(11)
    expect(sum.y[0].item()).toBe(22)
    expect(treeLeavesAs(treeFlatten(a).def, b, 'test').map((x) => x.item())).toEqual([10, 20])
  })

  it('reports the first structural difference and bad leaf counts', () => {
    expect(() => treeMap((p: Tensor, q: Tensor) => add(p, q), { x: [t(1)] }, { x: [t(1), t(2)] })).toThrow(/at \.x: arrays of length 1 vs 2/)
    expect(() => treeMap((p: Tensor, q: Tensor) => add(p, q), { x: t(1) }, { x: null })).toThrow(/at \.x: leaf vs empty/)
    expect(() => treeUnflatten(treeFlatten([t(1)]).def, [])).toThrow(TreeError)
    expect(() => treeFlatten({ a: [1] }, 'where')).toThrow(/^where: the leaf at \.a\[0\] is a number/)
  })
})
