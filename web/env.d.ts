/** esbuild bundles CSS imported from TypeScript into the entry's stylesheet. */
declare module '*.css';
