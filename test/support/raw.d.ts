// Text files imported whole (Vite's `?raw`), e.g. the storage document the tests hold against the schema.
declare module '*.md?raw' {
  const text: string;
  export default text;
}
