import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Logger } from '../../src/core/logger.js';
import { startLiveOutput, type LiveOptions } from '../../src/run/live-output.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let dir: string;
let file: string;
const logger = { debug: vi.fn(), warn: vi.fn() } as unknown as Logger & {
  debug: ReturnType<typeof vi.fn>;
  warn: ReturnType<typeof vi.fn>;
};
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lava-live-'));
  file = path.join(dir, 'out');
  fs.writeFileSync(file, '');
  vi.clearAllMocks();
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function start(o: Partial<LiveOptions> & Pick<LiveOptions, 'publish'>) {
  return startLiveOutput({ files: [{ name: 'stdout', file }], interval: 0.05, max: 1024, logger, ...o });
}

describe('live output', () => {
  it('publishes nothing when stopped within the first interval', async () => {
    fs.writeFileSync(file, 'early\n');
    const publish = vi.fn(() => Promise.resolve());
    const live = start({ publish, interval: 0.2 });
    await sleep(100);
    expect([...(await live.stop())]).toEqual([]);
    await sleep(250);
    expect(publish).not.toHaveBeenCalled();
  });

  it('publishes only when the size changed, a snapshot of the bytes, and reports what it published', async () => {
    const seen: string[] = [];
    const live = start({ publish: (_n, d) => Promise.resolve(void seen.push(d.toString())) });
    await sleep(120);
    expect(seen).toEqual([]); // empty: nothing to publish
    fs.appendFileSync(file, 'a\n');
    await sleep(150);
    fs.appendFileSync(file, 'b\n');
    await sleep(150);
    expect([...(await live.stop())]).toEqual(['stdout']);
    expect(seen).toEqual(['a\n', 'a\nb\n']);
  });

  it('stops publishing a file once it is past the maximum', async () => {
    const seen: number[] = [];
    const live = start({ max: 10, publish: (_n, d) => Promise.resolve(void seen.push(d.length)) });
    fs.writeFileSync(file, '12345');
    await sleep(150);
    fs.appendFileSync(file, '678901234');
    await sleep(150);
    fs.appendFileSync(file, 'x');
    await sleep(150);
    await live.stop();
    expect(seen).toEqual([5]);
  });

  it('never runs two publishes at once, and stop() waits for the one in flight and prevents any later', async () => {
    let inFlight = 0;
    let most = 0;
    let calls = 0;
    const publish = async () => {
      calls++;
      most = Math.max(most, ++inFlight);
      await sleep(150);
      inFlight--;
    };
    const live = start({ interval: 0.01, publish });
    const grow = setInterval(() => fs.appendFileSync(file, 'x'), 5);
    await sleep(400);
    await sleep(10); // likely mid-publish
    await live.stop();
    clearInterval(grow);
    expect(inFlight).toBe(0);
    expect(most).toBe(1);
    const after = calls;
    fs.appendFileSync(file, 'more');
    await sleep(100);
    expect(calls).toBe(after);
    expect(calls).toBeGreaterThan(0);
  });

  it('logs a failed publish (one warning per file), tries again next round and goes on', async () => {
    let n = 0;
    let last = '';
    const publish = (_n: string, d: Buffer) => {
      if (++n < 3) return Promise.reject(new Error('store down'));
      last = d.toString();
      return Promise.resolve();
    };
    const live = start({ publish });
    fs.appendFileSync(file, 'a');
    await sleep(300);
    fs.appendFileSync(file, 'b');
    await sleep(150);
    expect([...(await live.stop())]).toEqual(['stdout']);
    expect(n).toBeGreaterThanOrEqual(4);
    expect(last).toBe('ab');
    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(String(logger.warn.mock.calls[0]?.[0]?.err)).toContain('store down');
  });

  it('treats a file not yet created as nothing to publish', async () => {
    fs.rmSync(file);
    const publish = vi.fn(() => Promise.resolve());
    const live = start({ publish });
    await sleep(150);
    await live.stop();
    expect(publish).not.toHaveBeenCalled();
    expect(logger.warn).not.toHaveBeenCalled();
  });

  it('is off with an interval of 0', async () => {
    fs.writeFileSync(file, 'x');
    const publish = vi.fn(() => Promise.resolve());
    const live = start({ interval: 0, publish });
    await sleep(100);
    await live.stop();
    expect(publish).not.toHaveBeenCalled();
  });
});
