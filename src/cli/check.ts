/** `lava check` (validate spec files) and `lava schema` (JSON Schema for editors and CI). */
import type { Command } from 'commander';
import { z } from 'zod';
import { notInThisBuildWarnings } from '../core/config.js';
import { SCHEMAS, type SchemaKind } from '../core/schemas.js';
import { checkSpec } from '../core/validate.js';
import { ValidationError, errorMessage } from '../core/errors.js';
import { checkJobType } from '../handlers/registry.js';
import { printJson } from './context.js';
import { label, loadSpecFile, specKind } from './specs.js';

export interface CheckReport {
  errors: string[];
  warnings: string[];
  checked: number;
}

export function checkFiles(files: string[], forced?: SchemaKind): CheckReport {
  const report: CheckReport = { errors: [], warnings: [], checked: 0 };
  for (const file of files) {
    let specs;
    try {
      specs = loadSpecFile(file, report.warnings);
    } catch (err) {
      report.errors.push(errorMessage(err));
      continue;
    }
    for (const s of specs) {
      report.checked++;
      const kind = forced ?? specKind(s.spec);
      if (!kind) {
        report.errors.push(`${label(s)}: cannot tell what this is: a job needs job_id and type; use --type to say`);
        continue;
      }
      const r = checkSpec(kind, s.spec);
      // Job types are known here, not in core: a type this build lacks, parameters it does not take.
      const t = kind === 'job' ? checkJobType(s.spec) : { errors: [], warnings: [] };
      report.errors.push(...[...r.errors, ...t.errors].map((e) => `${label(s)}: ${e}`));
      report.warnings.push(...[...r.warnings, ...t.warnings].map((w) => `${label(s)}: ${w}`));
    }
  }
  return report;
}

export function registerCheck(program: Command): void {
  program
    .command('check')
    .argument('<file...>', 'JSON or YAML spec files (one spec or a list each)')
    .description('validate job, connection, trigger and realm specs; every problem is printed with its field and a hint')
    .option('-t, --type <kind>', `validate as this kind: ${Object.keys(SCHEMAS).join(', ')}`)
    .option('-q, --quiet', 'do not print warnings')
    .action((files: string[], o: { type?: string; quiet?: boolean }) => {
      if (o.type && !(o.type in SCHEMAS))
        throw new ValidationError(`--type ${o.type}: use one of ${Object.keys(SCHEMAS).join(', ')}`);
      const report = checkFiles(files, o.type as SchemaKind | undefined);
      // Upstream parameters set in this process's environment that this build does not have.
      report.warnings.push(...notInThisBuildWarnings(undefined, process.env));
      for (const e of report.errors) process.stderr.write(`error: ${e}\n`);
      if (!o.quiet) for (const w of report.warnings) process.stderr.write(`warning: ${w}\n`);
      process.stdout.write(
        `${report.checked} spec(s) checked, ${report.errors.length} error(s), ${report.warnings.length} warning(s)\n`,
      );
      if (report.errors.length) process.exitCode = 1;
    });

  program
    .command('schema')
    .argument('[kind]', `one of ${Object.keys(SCHEMAS).join(', ')} (default: all)`)
    .description('print JSON Schema (2020-12) for specs')
    .action((kind?: string) => {
      if (kind && !(kind in SCHEMAS))
        throw new ValidationError(`unknown kind ${kind}: use one of ${Object.keys(SCHEMAS).join(', ')}`);
      const one = (k: SchemaKind) => z.toJSONSchema(SCHEMAS[k], { unrepresentable: 'any', io: 'input' });
      printJson(
        kind ? one(kind as SchemaKind) : Object.fromEntries((Object.keys(SCHEMAS) as SchemaKind[]).map((k) => [k, one(k)])),
      );
    });
}
