/**
 * Quickstart: differentiate a small tanh RNN written with scan, then gradient-check it.
 * Run: npm run quickstart
 */
import * as E from 'fp-ts/lib/Either.js'
import { add, checkGrads, grad, matmul, mean, normal, randomKey, scan, splitKey, square, sub, tanh, type Tensor } from 'scangrad'

interface Params { readonly wIn: Tensor; readonly wRec: Tensor; readonly b: Tensor }

const [k1, k2, k3, k4] = splitKey(randomKey(0), 4)
const params: Params = { wIn: normal(k1, [2, 4]), wRec: normal(k2, [4, 4]), b: normal(k3, [4]) }
const xs = normal(k4, [6, 3, 2]) // [time, batch, features]: scan is time-major

/** h_t = tanh(x_t · wIn + h_{t−1} · wRec + b); the loss pulls every h_t towards 0.5. */
const loss = (p: Params, inputs: Tensor): Tensor => {
  const h0 = normal(randomKey(1), [3, 4])
  const [, hs] = scan((h: Tensor, x: Tensor) => {
    const next = tanh(add(add(matmul(x, p.wIn), matmul(h, p.wRec)), p.b))
    return [next, next] as const
  }, h0, inputs)
  return mean(square(sub(hs, 0.5)))
}

const g = grad(loss)(params, xs)
console.log('loss:', loss(params, xs).item())
console.log('d loss / d wRec (first row):', (g.wRec.toArray() as number[][])[0])

const check = checkGrads(loss, [params, xs], { order: 2 })
if (E.isLeft(check)) {
  console.error(check.left.message)
  process.exit(1)
}
console.log(`gradient check passed: ${check.right.checked} derivatives (orders 1 and 2), max relative error ${check.right.maxRelError.toExponential(2)}`)
