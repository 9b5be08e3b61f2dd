/**
 * @file PyTorch's LSTM cell as a user would write it, through the public API only: one `CellSpec`
 * with no `bind` (so `nn.recurrent` runs `cell` once per step under `scan`, and every op in it is
 * recorded on the tape). Configuration C2u of the training-step benchmark runs it in place of
 * `nn.lstm` (issue 18, item 6: a user's cell at built-in speed); test/nn/userLstmCell.test.ts
 * checks that both compute the same outputs and gradients.
 */
import { type Tensor, add, matmul, mul, nn, sigmoid, slice, tanh, transpose } from '../src/index.js'

/** The LSTM carry: hidden and cell state, each `[batch, hidden]`. */
export type UserLstmCarry = { readonly h: Tensor; readonly c: Tensor }

/**
 * One step, gates in PyTorch's order i, f, g, o:
 *
 *   z = x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh        [batch, 4·hidden]
 *   i = σ(z_i)   f = σ(z_f)   g = tanh(z_g)   o = σ(z_o)
 *   c' = f ⊙ c + i ⊙ g,   h' = o ⊙ tanh(c');   y = h'
 */
export const userLstmCell: nn.Cell<UserLstmCarry> = (p, { h, c }, x) => {
  const [batch, hidden] = h.shape
  const z = add(add(matmul(x, transpose(p.weight_ih)), p.bias_ih), add(matmul(h, transpose(p.weight_hh)), p.bias_hh))
  const gate = (k: number): Tensor => slice(z, [[0, batch], [k * hidden, (k + 1) * hidden]])
  const [i, f, g, o] = [sigmoid(gate(0)), sigmoid(gate(1)), tanh(gate(2)), sigmoid(gate(3))]
  const cNext = add(mul(f, c), mul(i, g))
  const hNext = mul(o, tanh(cNext))
  return [{ h: hNext, c: cNext }, hNext]
}

/** The spec `nn.recurrent` needs: PyTorch's parameter names and shapes, carry `{ h, c }`, init U(±1/√hidden). */
export const userLstmSpec: nn.CellSpec<UserLstmCarry> = {
  name: 'userLstm',
  params: ({ inputSize, hiddenSize }) => ({
    weight_ih: [4 * hiddenSize, inputSize], weight_hh: [4 * hiddenSize, hiddenSize], bias_ih: [4 * hiddenSize], bias_hh: [4 * hiddenSize],
  }),
  cell: userLstmCell,
  state: ['h', 'c'],
  init: ({ hiddenSize }) => nn.init.uniform(1 / Math.sqrt(hiddenSize)),
}
