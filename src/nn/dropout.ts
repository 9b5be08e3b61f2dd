/**
 * @file Dropout with an explicit key (no hidden training flag: no key, no dropout). Imports random
 * and ops.
 */
import { ValueError } from '../errors.js'
import { mul } from '../autodiff/ops/elementwise.js'
import { type Key, uniform } from '../random/random.js'
import { Tensor, allocate, expectTensor } from '../tensor/Tensor.js'

/**
 * Inverted dropout: each entry is zeroed with probability `rate` and the survivors are scaled by
 * 1 / (1 − rate), so E[dropout(key, x, rate)] = x and nothing changes at inference (just don't
 * call it). The same key drops the same entries. The gradient flows through the kept entries only.
 * @param key a fresh key per call (split one per layer and per step of training)
 * @param x any shape
 * @param rate in [0, 1)
 * @example
 * ```ts
 * const x = ones([2, 4])
 * const dropped = nn.dropout(randomKey(0), x, 0.5)
 * console.log(dropped.toArray()) // [[0, 0, 0, 2], [2, 0, 2, 0]]: each entry 0 or 1 / (1 − 0.5)
 * console.log(nn.dropout(randomKey(0), x, 0.5).data.join() === dropped.data.join()) // true: the same key drops the same entries
 * console.log(nn.dropout(randomKey(1), x, 0).toArray()) // [[1, 1, 1, 1], [1, 1, 1, 1]]: rate 0 keeps everything
 * ```
 * @category layers
 */
export const dropout = (key: Key, x: Tensor, rate: number): Tensor => {
  expectTensor('nn.dropout', 'x', x)
  if (typeof rate !== 'number' || !(rate >= 0 && rate < 1)) {
    throw new ValueError(`nn.dropout: rate must be in [0, 1), got ${String(rate)}.`)
  }
  if (rate === 0) return x
  const u = uniform(key, x.shape).data
  const scale = allocate(x.dtype, x.size)
  const kept = 1 / (1 - rate)
  for (let i = 0; i < u.length; i++) scale[i] = u[i] < rate ? 0 : kept
  return mul(x, new Tensor(scale, x.shape))
}
