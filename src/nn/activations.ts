/**
 * @file Activation functions by name (the seed's six) and the resolution of a name-or-function
 * option. Imports ops only.
 */
import { ValueError } from '../errors.js'
import { leakyRelu as leakyReluOp, relu as reluOp, sigmoid as sigmoidOp, tanh as tanhOp } from '../autodiff/ops/elementwise.js'
import { softmax as softmaxOp } from '../autodiff/ops/reduce.js'
import type { Tensor } from '../tensor/Tensor.js'

/** An elementwise (or last-axis) differentiable map `Tensor → Tensor` of the same shape. */
export type Activation = (x: Tensor) => Tensor

/** The activations known by name. */
export type ActivationName = 'identity' | 'tanh' | 'relu' | 'leakyRelu' | 'sigmoid' | 'softmax'

/**
 * The seed's activations by name:
 * - `identity`: σ(x) = x
 * - `tanh`: σ(x) = tanh x
 * - `relu`: σ(x) = max(x, 0) (gradient 0 at the kink)
 * - `leakyRelu`: σ(x) = x for x > 0, 10⁻³·x otherwise (the seed's slope, not PyTorch's 10⁻²)
 * - `sigmoid`: σ(x) = 1 / (1 + e⁻ˣ)
 * - `softmax`: σ(x)_i = e^{x_i} / Σ_j e^{x_j} over the last axis (its full Jacobian, not the
 *   seed's diagonal-only derivative)
 * @example
 * ```ts
 * const x = tensor([-1, 0, 2])
 * console.log(nn.activations.relu(x).toArray()) // [0, 0, 2]
 * console.log(nn.activations.leakyRelu(x).toArray()) // [-0.001, 0, 2]
 * console.log(nn.activations.softmax(tensor([[0, Math.log(3)]])).toArray()) // [[0.25, 0.75]]
 * ```
 * @category activations
 */
export const activations: { readonly [K in ActivationName]: Activation } = {
  identity: (x) => x,
  tanh: tanhOp,
  relu: reluOp,
  leakyRelu: (x) => leakyReluOp(x, 1e-3),
  sigmoid: sigmoidOp,
  softmax: (x) => softmaxOp(x, -1),
}

/**
 * The activation for a name or a function (functions pass through unchanged).
 * @param who the public name that is asking, for the error message
 * @example
 * ```ts
 * const sigma = nn.resolveActivation('myLayer', 'tanh') // the same function as nn.activations.tanh
 * const swish = nn.resolveActivation('myLayer', (x: Tensor) => mul(x, sigmoid(x))) // a function passes through
 * console.log(sigma(tensor([0])).toArray(), swish(tensor([0])).toArray()) // [0] [0]
 * try {
 *   nn.resolveActivation('myLayer', 'gelu' as nn.ActivationName)
 * } catch (e) {
 *   console.log((e as Error).message) // myLayer: unknown activation "gelu". Use one of 'identity', 'tanh', …
 * }
 * ```
 * @category activations
 */
export const resolveActivation = (who: string, activation: ActivationName | Activation): Activation => {
  if (typeof activation === 'function') return activation
  if (typeof activation === 'string' && Object.hasOwn(activations, activation)) return activations[activation]
  throw new ValueError(
    `${who}: unknown activation ${JSON.stringify(activation)}. ` +
      `Use one of ${Object.keys(activations).map((n) => `'${n}'`).join(', ')}, or pass any differentiable function (x: Tensor) => Tensor.`,
  )
}
