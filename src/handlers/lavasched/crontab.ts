/** Building the block of a crontab that lavasched owns, between its two marker lines. */
import { shellQuote } from '../../core/shlex.js';

export const START_MARKER = '#### Lava Schedules Start ####';
export const END_MARKER = '#### Lava Schedules End ####';

/** Replace the block between the markers (or append one); everything else is kept as it was. */
export function replaceBlock(current: string, block: string[]): string {
  const lines = current.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const start = lines.indexOf(START_MARKER);
  const end = start < 0 ? -1 : lines.indexOf(END_MARKER, start + 1);
  const before = start < 0 ? lines : lines.slice(0, start);
  // Unlike upstream, a start marker with no end marker keeps the lines after it.
  const after = start < 0 ? [] : end < 0 ? lines.slice(start + 1) : lines.slice(end + 1);
  return [...before, START_MARKER, ...block, END_MARKER, ...after].join('\n') + '\n';
}

export function cronLine(crontab: string, command: readonly string[], args: readonly string[]): string {
  return [crontab, ...command.map(shellQuote), ...args.map(shellQuote)].join(' ');
}

/** A unified diff with one line of context (what upstream puts in the result). */
export function unifiedDiff(a: string, b: string, context = 1): string {
  const x = a.split('\n');
  const y = b.split('\n');
  const n = x.length;
  const m = y.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i]![j] = x[i] === y[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  // Positions are 1-based line numbers in the old (i) and new (j) text.
  const ops: { op: ' ' | '-' | '+'; line: string; i: number; j: number }[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) ops.push({ op: ' ', line: x[i++]!, i, j: ++j });
    else if (j < m && (i >= n || lcs[i]![j + 1]! > lcs[i + 1]![j]!)) ops.push({ op: '+', line: y[j++]!, i: i + 1, j });
    else ops.push({ op: '-', line: x[i++]!, i, j: j + 1 });
  }
  const changed = ops.map((o) => o.op !== ' ');
  const out: string[] = ['--- crontab.old', '+++ crontab.new'];
  let k = 0;
  while (k < ops.length) {
    if (!changed[k]) {
      k++;
      continue;
    }
    const start = Math.max(0, k - context);
    let end = k;
    for (;;) {
      while (end < ops.length && changed[end]) end++;
      let next = end;
      while (next < ops.length && !changed[next]) next++;
      if (next >= ops.length || next - end > 2 * context) break;
      end = next;
    }
    const stop = Math.min(ops.length, end + context);
    const hunk = ops.slice(start, stop);
    const olds = hunk.filter((o) => o.op !== '+');
    const news = hunk.filter((o) => o.op !== '-');
    out.push(
      `@@ -${olds[0]?.i ?? hunk[0]!.i - 1},${olds.length} +${news[0]?.j ?? hunk[0]!.j - 1},${news.length} @@`,
      ...hunk.map((o) => o.op + o.line),
    );
    k = stop;
  }
  return out.join('\n') + '\n';
}
