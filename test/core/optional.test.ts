import { describe, expect, it } from 'vitest';
import { loadOptional } from '../../src/core/optional.js';
import type * as Yaml from 'yaml';

describe('loadOptional', () => {
  it('imports an installed package once', async () => {
    const a = await loadOptional<typeof Yaml>('yaml', 'the test');
    const b = await loadOptional<typeof Yaml>('yaml', 'the test');
    expect(a).toBe(b);
    expect(typeof a.parse).toBe('function');
  });

  it('names the missing package and how to install it', async () => {
    await expect(loadOptional('lava-no-such-package-x', 'the X connector')).rejects.toThrow(
      /\[LAVA_MISSING_PACKAGE\] the X connector needs the package "lava-no-such-package-x", which is not installed: run `npm install lava-no-such-package-x`/,
    );
  });
});
