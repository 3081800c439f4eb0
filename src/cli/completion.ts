/**
 * `lava completion bash|zsh`: a shell completion script made from the command tree itself, so it
 * always knows the commands and options this build has. Completes command and subcommand names and
 * `--options`; after an option that takes a value, and for positional arguments, the shell's own
 * file completion applies.
 */
import type { Command } from 'commander';
import { ValidationError } from '../core/errors.js';

/** One command of the tree, keyed by its path ("" for lava itself, "job put", …). */
interface Node {
  path: string;
  subs: { name: string; description: string }[];
  options: { flags: string[]; description: string; takesValue: boolean }[];
}

/** The visible commands and options, depth first, as commander's help shows them. */
export function commandTree(program: Command): Node[] {
  const nodes: Node[] = [];
  const walk = (cmd: Command, path: string) => {
    const help = cmd.createHelp();
    const subs = help.visibleCommands(cmd).filter((c) => c.name() !== 'help');
    nodes.push({
      path,
      subs: subs.flatMap((c) => [c.name(), ...c.aliases()].map((name) => ({ name, description: c.description() }))),
      options: help.visibleOptions(cmd).map((o) => ({
        flags: [o.short, o.long].filter((f): f is string => typeof f === 'string'),
        description: o.description,
        takesValue: o.required || o.optional,
      })),
    });
    for (const c of subs) walk(c, path ? `${path} ${c.name()}` : c.name());
  };
  walk(program, '');
  return nodes;
}

export const SHELLS = ['bash', 'zsh'] as const;
export type Shell = (typeof SHELLS)[number];

/** A shell word in single quotes. */
const sq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Options that take a value, for this command and the commands above it (lava's own come anywhere). */
function valued(nodes: Node[], node: Node): string[] {
  const out = new Set<string>();
  for (const n of nodes) {
    if (n.path === '' || node.path === n.path || node.path.startsWith(`${n.path} `)) {
      for (const o of n.options) if (o.takesValue) for (const f of o.flags) out.add(f);
    }
  }
  return [...out];
}

/** Shell functions shared by both scripts: the tables, and the walk that finds the command path. */
function tables(nodes: Node[]): string {
  const cases = (pick: (n: Node) => string[]) =>
    nodes.map((n) => `    ${sq(n.path)}) printf '%s\\n' ${pick(n).map(sq).join(' ') || "''"} ;;`).join('\n');
  return `_lava_subs() {
  case "$1" in
${cases((n) => n.subs.map((s) => s.name))}
  esac
}
_lava_opts() {
  case "$1" in
${cases((n) => n.options.flatMap((o) => o.flags))}
  esac
}
_lava_valued() {
  case "$1" in
${cases((n) => valued(nodes, n))}
  esac
}
# The command path of words 1..N-1 ("job put"): option values and positional arguments are skipped.
_lava_path() {
  local cmdpath="" skip=0 w
  for w in "$@"; do
    if [ "$skip" = 1 ]; then skip=0; continue; fi
    case "$w" in
      --*=*) continue ;;
      -*)
        if _lava_valued "$cmdpath" | grep -qxF -- "$w"; then skip=1; fi
        continue ;;
    esac
    if _lava_subs "$cmdpath" | grep -qxF -- "$w"; then cmdpath="\${cmdpath:+$cmdpath }$w"; fi
  done
  printf '%s' "$cmdpath"
}`;
}

function bash(nodes: Node[]): string {
  return `# bash completion for lava (made by \`lava completion bash\`).
# Use: source <(lava completion bash), or save it as ~/.local/share/bash-completion/completions/lava
${tables(nodes)}
_lava() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="" cmdpath words
  cmdpath=$(_lava_path "\${COMP_WORDS[@]:1:COMP_CWORD-1}")
  [ "$COMP_CWORD" -gt 1 ] && prev="\${COMP_WORDS[COMP_CWORD-1]}"
  COMPREPLY=()
  if [ -n "$prev" ] && _lava_valued "$cmdpath" | grep -qxF -- "$prev"; then return 0; fi
  case "$cur" in
    -*) words=$(_lava_opts "$cmdpath") ;;
    *) words=$(_lava_subs "$cmdpath") ;;
  esac
  local IFS=$'\\n'
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _lava lava
`;
}

function zsh(nodes: Node[]): string {
  const described = nodes
    .map((n) => {
      const entries = n.subs.map((s) => sq(`${s.name.replace(/:/g, '\\:')}:${s.description}`));
      return `    ${sq(n.path)}) described=(${entries.join(' ')}) ;;`;
    })
    .join('\n');
  return `#compdef lava
# zsh completion for lava (made by \`lava completion zsh\`).
# Use: source <(lava completion zsh) after compinit, or save it as _lava in a directory of $fpath
${tables(nodes)}
_lava_described() {
  local -a described
  case "$1" in
${described}
  esac
  (( \${#described} )) && _describe -t commands 'lava command' described
}
_lava() {
  local cmdpath prev=""
  cmdpath=$(_lava_path "\${(@)words[2,CURRENT-1]}")
  (( CURRENT > 2 )) && prev="\${words[CURRENT-1]}"
  if [[ -n "$prev" ]] && _lava_valued "$cmdpath" | grep -qxF -- "$prev"; then _files; return; fi
  if [[ "\${words[CURRENT]}" == -* ]]; then
    local -a opts
    opts=("\${(@f)$(_lava_opts "$cmdpath")}")
    compadd -- "\${opts[@]}"
  else
    _lava_described "$cmdpath" || _files
  fi
}
if [[ "\${funcstack[1]}" == _lava ]]; then _lava "$@"; else compdef _lava lava; fi
`;
}

export function completionScript(program: Command, shell: string): string {
  const nodes = commandTree(program);
  if (shell === 'bash') return bash(nodes);
  if (shell === 'zsh') return zsh(nodes);
  throw new ValidationError(`lava completion: unknown shell ${JSON.stringify(shell)}: use ${SHELLS.join(' or ')}`);
}

export function registerCompletion(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script for lava (bash or zsh)')
    .argument('<shell>', SHELLS.join(' or '))
    .addHelpText(
      'after',
      `
Examples:
  source <(lava completion bash)                  # this bash session; add the line to ~/.bashrc to keep it
  lava completion zsh > "\${fpath[1]}/_lava"       # zsh, then start a new shell`,
    )
    .action((shell: string) => {
      process.stdout.write(completionScript(program, shell));
    });
}
