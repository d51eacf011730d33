/**
 * What is generated from the commander tree, so it cannot drift from the commands: the CLI
 * reference (docs/cli-reference.md, written by scripts/cli-reference.mjs) and the shell completion
 * scripts of `signet completion bash|zsh|fish`.
 */
import type { Command, Option } from 'commander';

interface Node {
  path: string[];
  cmd: Command;
}

/** Every command below `program`, depth first, in registration order. */
function walk(cmd: Command, path: string[] = []): Node[] {
  return cmd.commands.flatMap((c) => {
    const p = [...path, c.name()];
    return [{ path: p, cmd: c }, ...walk(c, p)];
  });
}

const visible = (cmd: Command): readonly Option[] => cmd.options.filter((o) => !o.hidden);

function argText(cmd: Command): string {
  return cmd.registeredArguments
    .map((a) => {
      const n = `${a.name()}${a.variadic ? '...' : ''}`;
      return a.required ? `<${n}>` : `[${n}]`;
    })
    .join(' ');
}

const cell = (s: string): string => s.replaceAll('|', '\\|').replaceAll('\n', ' ');

function optionRows(options: readonly Option[]): string[] {
  if (options.length === 0) return [];
  return [
    '| option | meaning |',
    '| --- | --- |',
    ...options.map((o) => {
      const def =
        o.defaultValue !== undefined && o.defaultValue !== false ? ` (default: ${JSON.stringify(o.defaultValue)})` : '';
      return `| \`${cell(o.flags)}\` | ${cell(o.description)}${cell(def)} |`;
    }),
    '',
  ];
}

/** docs/cli-reference.md: every command with its arguments and options. */
export function renderReference(program: Command): string {
  const out = [
    '# signet command-line reference',
    '',
    '<!-- Generated from the commands by `npm run build && node scripts/cli-reference.mjs`; do not edit.',
    '     test/cli/reference.test.ts fails when this file is stale. -->',
    '',
    `${program.description()}. Exit codes and JSON output: [client.md](client.md).`,
    '',
    '## Global options',
    '',
    'Given before the command (`signet -d DIR verify …`).',
    '',
    ...optionRows(visible(program)),
  ];
  for (const { path, cmd } of walk(program)) {
    out.push(
      `## signet ${path.join(' ')}`,
      '',
      '```',
      `signet ${[...path, argText(cmd)].filter((s) => s !== '').join(' ')}${cmd.options.length > 0 ? ' [options]' : ''}${cmd.commands.length > 0 ? ' <command>' : ''}`,
      '```',
      '',
    );
    if (cmd.description()) out.push(cmd.description(), '');
    if (cmd.registeredArguments.length > 0) {
      out.push('| argument | meaning |', '| --- | --- |');
      for (const a of cmd.registeredArguments) out.push(`| \`${a.name()}\` | ${cell(a.description)} |`);
      out.push('');
    }
    out.push(...optionRows(visible(cmd)));
    if (cmd.commands.length > 0) out.push(`Commands: ${cmd.commands.map((c) => `\`${c.name()}\``).join(', ')}.`, '');
  }
  return `${out.join('\n').trimEnd()}\n`;
}

const longFlags = (cmd: Command): string[] =>
  visible(cmd).flatMap((o) => [o.long, o.short].filter((f): f is string => f !== undefined));

/** bash (and zsh through bashcompinit): subcommands and options of the command typed so far. */
function bashScript(program: Command): string {
  const cases = [{ path: [] as string[], cmd: program }, ...walk(program)].map(
    ({ path, cmd }) =>
      `    '${path.join(' ')}') words="${[...cmd.commands.map((c) => c.name()), ...longFlags(cmd), '--help'].join(' ')}" ;;`,
  );
  const names = walk(program)
    .map((n) => n.cmd.name())
    .filter((n, i, a) => a.indexOf(n) === i);
  return `# bash completion for signet (generated: signet completion bash)
_signet() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" path="" w i words
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    case " ${names.join(' ')} " in *" $w "*) path="\${path:+$path }$w" ;; esac
  done
  case "$path" in
${cases.join('\n')}
    *) words="--help" ;;
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _signet signet
`;
}

function zshScript(program: Command): string {
  return `#compdef signet
# zsh completion for signet (generated: signet completion zsh), through zsh's bash completion layer
autoload -U +X bashcompinit && bashcompinit
${bashScript(program)}`;
}

function fishScript(program: Command): string {
  const q = (s: string): string => `'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
  const lines = ['# fish completion for signet (generated: signet completion fish)', 'complete -c signet -f'];
  const top = program.commands.map((c) => c.name());
  for (const c of program.commands)
    lines.push(
      `complete -c signet -n "not __fish_seen_subcommand_from ${top.join(' ')}" -a ${c.name()} -d ${q(c.description())}`,
    );
  for (const o of visible(program))
    if (o.long) lines.push(`complete -c signet -l ${o.long.slice(2)} -d ${q(o.description)}`);
  for (const { cmd } of walk(program)) {
    const when = `__fish_seen_subcommand_from ${cmd.name()}`;
    for (const sub of cmd.commands)
      lines.push(`complete -c signet -n "${when}" -a ${sub.name()} -d ${q(sub.description())}`);
    for (const o of visible(cmd))
      if (o.long) lines.push(`complete -c signet -n "${when}" -l ${o.long.slice(2)} -d ${q(o.description)}`);
  }
  return `${lines.join('\n')}\n`;
}

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

export function completionScript(program: Command, shell: Shell): string {
  return shell === 'bash' ? bashScript(program) : shell === 'zsh' ? zshScript(program) : fishScript(program);
}
