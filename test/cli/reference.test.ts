// The CLI reference and the completion scripts come from the commander tree: a new command or flag
// shows up in both, and a stale docs/cli-reference.md fails here.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';
import { completionScript, renderReference } from '../../src/cli/reference.js';
import { run } from '../harness/proc.js';
import { ROOT } from './signet.js';

describe('generated from the commands', () => {
  it('docs/cli-reference.md is current (regenerate: npm run build && node scripts/cli-reference.mjs)', () => {
    const committed = readFileSync(path.join(ROOT, 'docs/cli-reference.md'), 'utf8');
    expect(committed, 'docs/cli-reference.md is stale: npm run build && node scripts/cli-reference.mjs').toBe(
      renderReference(buildProgram()),
    );
    expect(committed).toContain('## signet key import');
    expect(committed).toContain('## signet completion');
  });

  it('bash completion completes commands, subcommands and options', async () => {
    const script = completionScript(buildProgram(), 'bash');
    const complete = async (line: string): Promise<string[]> => {
      const words = line.split(' ');
      const r = await run('bash', [
        '-c',
        `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _signet; echo "\${COMPREPLY[@]}"`,
      ]);
      expect(r.code, r.stderr).toBe(0);
      return r.stdout.trim().split(' ');
    };
    expect(await complete('signet ve')).toEqual(['verify']);
    expect(await complete('signet key ')).toContain('import');
    expect(await complete('signet -d /tmp/t key rotate --j')).toEqual(['--json']);
  });

  it('zsh and fish scripts name every top-level command', () => {
    const program = buildProgram();
    for (const shell of ['zsh', 'fish'] as const) {
      const s = completionScript(program, shell);
      for (const c of program.commands) expect(s).toContain(c.name());
    }
    expect(completionScript(program, 'fish')).toContain(
      'complete -c signet -n "__fish_seen_subcommand_from key" -a import',
    );
  });
});
