/**
 * @file The io namespace: safetensors (pure), checkpoints, config decoding, and the Node-only file
 * helpers. Importing it is browser-safe: Node modules load only when a file function is called.
 */
export type { IoError, IoErrorKind } from './IoError.js'
export { ioError } from './IoError.js'
export { encodeSafetensors, decodeSafetensors } from './safetensors.js'
export type { SafetensorsContent } from './safetensors.js'
export { writeFileAtomic, readFileEither, saveSafetensors, loadSafetensors } from './files.js'
export {
  CHECKPOINT_FILE, CHECKPOINT_FORMAT, CHECKPOINT_VERSION, checkpointPath,
  encodeCheckpoint, decodeCheckpoint, saveCheckpoint, loadCheckpoint,
} from './checkpoint.js'
export type { Checkpoint, CheckpointState, CheckpointExpectation, Json } from './checkpoint.js'
export { leafNames } from './treeCodec.js'
export {
  decodeWith, describeErrors, showValue, FiniteNumber, PositiveNumber, NonNegativeNumber, PositiveInt, NonNegativeInt,
  Probability, NonEmptyString, oneOf, struct, taggedUnion,
} from './config.js'
export type { DecodeOptions, FieldIssue, StructOf } from './config.js'
export { toOnnx } from './onnx.js'
export type { OnnxOptions } from './onnx.js'
