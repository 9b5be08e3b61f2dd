/** The first names the page trains on, put into the worker's bundle by build.ts (lower-cased, distinct, sorted). */
declare module 'playground:names' {
  const names: readonly string[]
  export default names
}
