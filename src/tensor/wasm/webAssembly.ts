/**
 * @file The slice of the WebAssembly JavaScript API this backend uses, typed here because the
 * library compiles against `lib: ES2022`, which has no WebAssembly declarations (they live in the
 * DOM lib). Reading it from `globalThis` also lets the loader report a missing API instead of
 * failing with a ReferenceError. Imports nothing.
 */

/** A WebAssembly linear memory: `buffer` is replaced (the old one detached) on every `grow`. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer
  /** Grows by `pages` of 64 KiB; returns the previous size in pages, throws if it cannot. */
  grow(pages: number): number
}

/** An instantiated module; the backend narrows `exports` to its own layout. */
export interface WasmInstance {
  readonly exports: object
}

/** A compiled module (opaque). */
export type WasmModule = object

/** The global `WebAssembly` namespace, as far as the loaders need it. */
export interface WebAssemblyApi {
  readonly Module: new (bytes: Uint8Array) => WasmModule
  readonly Instance: new (module: WasmModule, imports?: object) => WasmInstance
  compile(bytes: Uint8Array): Promise<WasmModule>
  instantiate(module: WasmModule, imports?: object): Promise<WasmInstance>
  validate(bytes: Uint8Array): boolean
}

/** The host's WebAssembly API, or undefined where there is none. */
export const webAssemblyApi = (): WebAssemblyApi | undefined =>
  (globalThis as { readonly WebAssembly?: WebAssemblyApi }).WebAssembly
