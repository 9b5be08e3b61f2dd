/**
 * @file Base64 decoding without `Buffer` or `atob`, so the embedded kernels decode the same way in
 * Node and in browsers, and under `lib: ES2022` typings. Imports nothing.
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
const VALUE = new Int8Array(128).fill(-1)
for (let i = 0; i < ALPHABET.length; i++) VALUE[ALPHABET.charCodeAt(i)] = i

/**
 * Decodes standard base64 (RFC 4648 §4, `=` padding optional) into bytes.
 * @param text base64 characters, no whitespace
 * @returns the decoded bytes, ⌊6·length / 8⌋ of them after removing padding
 * @throws Error on a character outside the alphabet
 * @example decodeBase64('AGFzbQ==') // Uint8Array [0, 97, 115, 109]: the WebAssembly magic number
 * @category wasm
 */
export const decodeBase64 = (text: string): Uint8Array => {
  const length = text.replace(/=+$/, '').length
  const out = new Uint8Array(Math.floor((length * 6) / 8))
  let buffer = 0
  let bits = 0
  let o = 0
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i)
    const value = code < 128 ? VALUE[code] : -1
    if (value < 0) throw new Error(`decodeBase64: character ${JSON.stringify(text[i])} at ${i} is not base64.`)
    buffer = (buffer << 6) | value
    bits += 6
    if (bits >= 8) {
      bits -= 8
      out[o++] = (buffer >> bits) & 0xff
    }
  }
  return out
}
