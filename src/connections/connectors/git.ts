/**
 * git (upstream §6.3): the git CLI with an SSH key only Lava handles. The CLI connector runs
 * `git "$@"` with GIT_SSH_COMMAND = `ssh -o OPTION… -i <0600 key file>`, GIT_CONFIG_NOSYSTEM=1 and
 * GIT_TERMINAL_PROMPT=0, as upstream; a job clones with `$LAVA_CONN_<LABEL> clone URL DIR`.
 * Fields and option handling are the ssh connector's (./ssh.ts). A password, when given, reaches
 * ssh only (SSH_ASKPASS inside GIT_SSH_COMMAND), never git's own HTTPS prompts.
 */
import { sq, shScript } from '../cli-dir.js';
import type { CliDir, Connector, ResolvedConnection } from '../types.js';
import { SSH_SECRET_FIELDS, sshArgs, sshCheck, sshSchema, testSsh } from './ssh.js';

async function writeGitCli(c: ResolvedConnection, dir: CliDir): Promise<string> {
  const { args, env } = await sshArgs(c, dir);
  // GIT_SSH_COMMAND is run by a shell: quote each word; the askpass variables prefix the command.
  const assignments = env.filter((l) => !l.startsWith('export '));
  const sshCommand = [...assignments, 'ssh', ...args.map(sq)].join(' ');
  return dir.writeScript(
    `${c.connId.replace(/[^\w.-]/g, '_')}.git`,
    shScript([
      'GIT_CONFIG_NOSYSTEM=1',
      `GIT_SSH_COMMAND=${sq(sshCommand)}`,
      // The command does not start with "ssh": tell git it is OpenSSH (for -p and -o handling).
      'GIT_SSH_VARIANT=ssh',
      'GIT_TERMINAL_PROMPT=0',
      'export GIT_CONFIG_NOSYSTEM GIT_SSH_COMMAND GIT_SSH_VARIANT GIT_TERMINAL_PROMPT',
      'exec git "$@"',
    ]),
  );
}

export const gitConnector: Connector = {
  type: 'git',
  aliases: [],
  dialect: 'generic',
  schema: sshSchema,
  required: [],
  secretFields: [...SSH_SECRET_FIELDS],
  check: sshCheck,
  test: testSsh,
  writeCli: (c, dir) => writeGitCli(c, dir),
};
