/**
 * vitest globalSetup: the e2e tests run the compiled CLI (bin/lava.js → dist/cli), so build
 * dist/ once, before any test file starts, when it is missing or older than src/.
 */
import { build, distIsStale } from './cli-helpers.js';

export default function setup(): void {
  if (distIsStale()) build();
}
