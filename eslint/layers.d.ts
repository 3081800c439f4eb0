import type { ESLint } from 'eslint';

export declare const LAYERS: string[][];
declare const plugin: ESLint.Plugin;
export default plugin;
