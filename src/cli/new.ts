/**
 * `lava new DIR` (upstream lava-new, which runs a cookiecutter template): scaffold a job — its spec,
 * its payload script, and `test.sh`, which checks the spec and runs the job once in a throwaway
 * embedded realm inside DIR, failing when the run does not complete.
 */
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline/promises';
import type { Command } from 'commander';
import { ValidationError } from '../core/errors.js';

export interface NewValues {
  job_name: string;
  job_prefix: string;
  worker: string;
  owner: string;
  description: string;
}

const QUESTIONS: [keyof NewValues, string][] = [
  ['job_name', 'job name'],
  ['job_prefix', 'job id prefix'],
  ['worker', 'worker'],
  ['owner', 'owner'],
  ['description', 'description'],
];

const NAME_RE = /^[A-Za-z0-9][\w.-]*$/;

export function defaultValues(dir: string): NewValues {
  const base = path.basename(path.resolve(dir)).replace(/[^\w.-]/g, '-') || 'job';
  return {
    job_name: base,
    job_prefix: 'app',
    worker: 'core',
    owner: process.env.USER ? `${process.env.USER}@localhost` : 'someone@example.com',
    description: `What ${base} does`,
  };
}

/** `-p KEY=VALUE` pairs over the defaults; an unknown key is an error naming the known ones. */
export function applyPairs(values: NewValues, pairs: string[]): NewValues {
  const out = { ...values };
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const key = (eq < 0 ? pair : pair.slice(0, eq)) as keyof NewValues;
    if (eq < 0 || !(key in out)) {
      throw new ValidationError(`-p ${pair}: use KEY=VALUE with KEY one of ${Object.keys(out).join(', ')}`);
    }
    out[key] = pair.slice(eq + 1);
  }
  return out;
}

function checkValues(v: NewValues): void {
  for (const k of ['job_name', 'job_prefix', 'worker'] as const) {
    if (!NAME_RE.test(v[k]))
      throw new ValidationError(`${k} "${v[k]}": use letters, digits, _, . and -, starting with a letter or digit`);
  }
}

const yamlString = (s: string) => JSON.stringify(s);

/** The files of a new job, by path relative to DIR. */
export function scaffold(v: NewValues): Record<string, { text: string; mode: number }> {
  checkValues(v);
  const jobId = `${v.job_prefix}/${v.job_name}`;
  const script = `${v.job_name}/run.sh`;
  return {
    [`jobs/${v.job_name}.yaml`]: {
      mode: 0o644,
      text: `# ${jobId}: check it with \`lava check jobs/${v.job_name}.yaml\`; ./test.sh runs it once.
job_id: ${yamlString(jobId)}
type: exe
worker: ${yamlString(v.worker)}
enabled: true
owner: ${yamlString(v.owner)}
description: ${yamlString(v.description)}
payload: ${yamlString(script)}
parameters:
  args:
    - "{{ globals.greeting | default('hello') }}"
  timeout: 5m
`,
    },
    [`payloads/${script}`]: {
      mode: 0o755,
      text: `#!/bin/sh
# The payload of ${jobId}. Lava runs it with the job's args; LAVA_* variables say which run this is.
set -eu
echo "$1 from $LAVA_JOB_ID (run $LAVA_RUN_ID) in realm $LAVA_REALM"
`,
    },
    'test.sh': {
      mode: 0o755,
      text: `#!/bin/sh
# Check the spec, then run ${jobId} once in a throwaway realm in .lava/ here; exit 1 unless it completes.
# LAVA says how to run lava (default: npx lava).
set -eu
cd "$(dirname "$0")"
LAVA=\${LAVA:-npx lava}
export LAVA_BACKEND="sqlite:$PWD/.lava/lava.db"
unset LAVA_REALM
$LAVA check jobs/*.yaml
$LAVA init --dir .lava >/dev/null
$LAVA payload put payloads/${v.job_name} ${v.job_name}/ >/dev/null
$LAVA job put jobs/${v.job_name}.yaml >/dev/null
run_id=$($LAVA dispatch ${jobId} -g greeting=hi)
$LAVA worker -w ${v.worker} --batch --exit-code
$LAVA output "$run_id"
`,
    },
    'README.md': {
      mode: 0o644,
      text: `# ${jobId}

${v.description}

- \`jobs/${v.job_name}.yaml\`: the job spec (an \`exe\` job).
- \`payloads/${script}\`: what it runs.
- \`./test.sh\`: checks the spec and runs the job once in a throwaway realm in \`.lava/\`.

To install it in a realm: \`lava payload put payloads/${v.job_name} ${v.job_name}/\` and
\`lava job put jobs/${v.job_name}.yaml\`.
`,
    },
  };
}

/** Write the files; DIR must be missing or empty, so nothing is overwritten. */
export function writeScaffold(dir: string, files: Record<string, { text: string; mode: number }>): string[] {
  if (fs.existsSync(dir) && fs.readdirSync(dir).length)
    throw new ValidationError(`${dir} exists and is not empty: choose a new directory`);
  const written: string[] = [];
  for (const [rel, { text, mode }] of Object.entries(files)) {
    const file = path.join(dir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text, { mode, flag: 'wx' });
    fs.chmodSync(file, mode);
    written.push(file);
  }
  return written;
}

async function ask(values: NewValues): Promise<NewValues> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    const out = { ...values };
    for (const [key, question] of QUESTIONS) {
      const answer = (await rl.question(`${question} [${out[key]}]: `)).trim();
      if (answer) out[key] = answer;
    }
    return out;
  } finally {
    rl.close();
  }
}

export function registerNew(program: Command): void {
  program
    .command('new')
    .argument('<dir>', 'directory to create (missing or empty)')
    .description('scaffold a job: its spec, a payload script and test.sh, which runs it once in a throwaway realm')
    .option('--no-input', 'do not ask; use the defaults and -p values')
    .option(
      '-p, --param <key=value>',
      `set a value (${QUESTIONS.map(([k]) => k).join(', ')}); repeatable`,
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .action(async (dir: string, o: { input: boolean; param: string[] }) => {
      let values = applyPairs(defaultValues(dir), o.param);
      // Questions need a terminal; piped input gets the defaults, as with --no-input.
      if (o.input && process.stdin.isTTY) values = await ask(values);
      for (const file of writeScaffold(dir, scaffold(values))) process.stdout.write(`created ${file}\n`);
      process.stdout.write(`try it: ${path.join(dir, 'test.sh')}\n`);
    });
}
