/**
 * @file A small builder for ONNX graphs on top of onnx-proto's generated protobuf classes: named
 * constants (initializers), nodes with attributes, typed inputs and outputs, and the encoded
 * ModelProto. It knows nothing about scangrad's models (see onnx.ts for that).
 */
import onnxProto from 'onnx-proto'
import type { DType } from '../tensor/Tensor.js'

// onnx-proto is CommonJS: its namespace arrives as the default export under Node's ESM loader.
const { onnx } = onnxProto

/** The opset the exported graphs are written against (RNN/GRU/LSTM 14, Reshape 14, Softmax 13). */
export const ONNX_OPSET = 14

/** A dimension: a fixed size, or a named dynamic axis ('batch', 'time'). */
export type Dim = number | string

type AttributeValue = number | string | readonly number[] | readonly string[]

export const onnxElementType = (dtype: DType): number => (dtype === 'float32' ? onnx.TensorProto.DataType.FLOAT : onnx.TensorProto.DataType.DOUBLE)

const attribute = (name: string, value: AttributeValue): InstanceType<typeof onnx.AttributeProto> => {
  const { AttributeType } = onnx.AttributeProto
  if (typeof value === 'string') return onnx.AttributeProto.create({ name, type: AttributeType.STRING, s: new TextEncoder().encode(value) })
  if (typeof value === 'number') {
    return Number.isInteger(value)
      ? onnx.AttributeProto.create({ name, type: AttributeType.INT, i: value })
      : onnx.AttributeProto.create({ name, type: AttributeType.FLOAT, f: value })
  }
  if (value.every((v) => typeof v === 'string')) {
    return onnx.AttributeProto.create({ name, type: AttributeType.STRINGS, strings: (value as readonly string[]).map((v) => new TextEncoder().encode(v)) })
  }
  return onnx.AttributeProto.create({ name, type: AttributeType.INTS, ints: [...(value as readonly number[])] })
}

const valueInfo = (name: string, elementType: number, dims: readonly Dim[]) =>
  onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType: elementType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  })

/** Collects a graph's parts; node names and intermediate value names are made unique here. */
export class GraphBuilder {
  private readonly nodes: InstanceType<typeof onnx.NodeProto>[] = []
  private readonly initializers: InstanceType<typeof onnx.TensorProto>[] = []
  private readonly inputs: InstanceType<typeof onnx.ValueInfoProto>[] = []
  private readonly outputs: InstanceType<typeof onnx.ValueInfoProto>[] = []
  private counter = 0

  constructor(readonly dtype: DType) {}

  /** The graph's float type as an ONNX element type (a Cast's `to`). */
  get elementType(): number {
    return onnxElementType(this.dtype)
  }

  /** A fresh value name with a readable stem. */
  fresh(stem: string): string {
    this.counter += 1
    return `${stem}_${this.counter}`
  }

  /** A constant in the graph's float type, row-major values. */
  floats(stem: string, dims: readonly number[], values: ArrayLike<number>): string {
    const name = this.fresh(stem)
    const raw = this.dtype === 'float32' ? new Float32Array(Array.from(values)) : new Float64Array(Array.from(values))
    this.initializers.push(onnx.TensorProto.create({
      name, dims: [...dims], dataType: onnxElementType(this.dtype), rawData: new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength),
    }))
    return name
  }

  /** An int64 constant (shapes, axes, indices). */
  ints(stem: string, dims: readonly number[], values: readonly number[]): string {
    const name = this.fresh(stem)
    const raw = new BigInt64Array(values.map((v) => BigInt(v)))
    this.initializers.push(onnx.TensorProto.create({
      name, dims: [...dims], dataType: onnx.TensorProto.DataType.INT64, rawData: new Uint8Array(raw.buffer),
    }))
    return name
  }

  /**
   * A graph input. With `defaultValue` (IR ≥ 4: an initializer of the same name) the input may be
   * left out by the caller, which is how the initial states become optional.
   */
  input(name: string, dims: readonly Dim[], defaultValue?: { readonly dims: readonly number[]; readonly values: ArrayLike<number> }): string {
    this.inputs.push(valueInfo(name, onnxElementType(this.dtype), dims))
    if (defaultValue !== undefined) {
      const raw = this.dtype === 'float32' ? new Float32Array(Array.from(defaultValue.values)) : new Float64Array(Array.from(defaultValue.values))
      this.initializers.push(onnx.TensorProto.create({
        name, dims: [...defaultValue.dims], dataType: onnxElementType(this.dtype), rawData: new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength),
      }))
    }
    return name
  }

  /** Declares `value` a graph output named `name` (an Identity node renames it). */
  output(name: string, value: string, dims: readonly Dim[]): void {
    this.nodes.push(onnx.NodeProto.create({ name: this.fresh('Identity'), opType: 'Identity', input: [value], output: [name] }))
    this.outputs.push(valueInfo(name, onnxElementType(this.dtype), dims))
  }

  /**
   * A node; returns its output names (`outputs` of them). An empty string among the inputs leaves
   * an optional input out, as ONNX wants.
   */
  node(opType: string, inputs: readonly string[], attributes: Readonly<Record<string, AttributeValue>> = {}, outputs = 1): string[] {
    const names = Array.from({ length: outputs }, () => this.fresh(opType))
    this.nodes.push(onnx.NodeProto.create({
      name: this.fresh(`${opType}_node`),
      opType,
      input: [...inputs],
      output: names,
      attribute: Object.entries(attributes).map(([k, v]) => attribute(k, v)),
    }))
    return names
  }

  /** One output of a single-output node. */
  op(opType: string, inputs: readonly string[], attributes: Readonly<Record<string, AttributeValue>> = {}): string {
    return this.node(opType, inputs, attributes, 1)[0]
  }

  /** The encoded ModelProto. */
  encode(graphName: string, docString: string): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'scangrad',
      docString,
      opsetImport: [{ domain: '', version: ONNX_OPSET }],
      graph: {
        name: graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    })
    return onnx.ModelProto.encode(model).finish()
  }
}
