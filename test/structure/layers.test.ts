/**
 * The layer rule (eslint/layers.js) that `npm run lint` applies to src/: fixtures it must reject
 * and accept, and a check that the project's ESLint config really applies it to src/.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint, Linter } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';
import layers from '../../eslint/layers.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function lint(file: string, code: string): string[] {
  const linter = new Linter({ configType: 'flat', cwd: ROOT });
  const config: Linter.Config[] = [
    {
      files: ['**/*.ts'],
      languageOptions: { parser: tseslint.parser },
      plugins: { layers },
      rules: { 'layers/direction': 'error' },
    },
  ];
  return linter.verify(code, config, { filename: path.join(ROOT, file) }).map((m) => m.message);
}

describe('layers/direction', () => {
  it('rejects an upward import, naming both folders and the fix', () => {
    const [message, ...rest] = lint('src/core/fixture.ts', "import { program } from '../cli/index.js';\n");
    expect(rest).toEqual([]);
    expect(message).toMatch(/^core\/ may not import cli\/ \(cli is a higher layer than core\): move the shared code down/);
  });

  it('rejects upward type imports, re-exports and dynamic imports too', () => {
    expect(lint('src/run/fixture.ts', "import type { Worker } from '../worker/worker.js';\n")).toHaveLength(1);
    expect(lint('src/template/fixture.ts', "export { dispatch } from '../dispatch/dispatch.js';\n")).toHaveLength(1);
    expect(lint('src/backends/fixture.ts', "export * from '../state/state.js';\n")).toHaveLength(1);
    expect(lint('src/core/fixture.ts', "const m = await import('../backends/index.js');\nexport { m };\n")).toHaveLength(1);
  });

  it('rejects imports between folders of one layer, which could otherwise form a cycle', () => {
    expect(lint('src/handlers/fixture.ts', "import { x } from '../actions/registry.js';\n")).toEqual([
      'handlers/ may not import actions/ (both are on the same layer, so they could import each other): move the shared code down a layer',
    ]);
  });

  it('asks for a new folder to be placed in the layer map', () => {
    expect(lint('src/newthing/fixture.ts', "import { x } from '../core/errors.js';\n")[0]).toMatch(
      /src\/newthing\/ is not in the layer map: add it to LAYERS in eslint\/layers.js/,
    );
  });

  it('accepts downward imports, imports within a folder, packages and files outside src/', () => {
    expect(lint('src/cli/fixture.ts', "import { x } from '../core/errors.js';\nimport { y } from './context.js';\n")).toEqual([]);
    expect(lint('src/core/fixture.ts', "import { z } from 'zod';\nimport fs from 'node:fs';\n")).toEqual([]);
    expect(lint('src/index.ts', "export { dispatch } from './dispatch/dispatch.js';\n")).toEqual([]);
    expect(lint('test/fixture.ts', "import { x } from '../src/cli/index.js';\n")).toEqual([]);
  });

  it('is on for every file in src/ in the project config, as an error', async () => {
    const eslint = new ESLint({ cwd: ROOT });
    const config = (await eslint.calculateConfigForFile(path.join(ROOT, 'src/core/errors.ts'))) as Linter.Config;
    expect(config.rules?.['layers/direction']).toEqual([2]);
  });
});
