// A one-shot command registers only itself (program.ts); what the user sees must not change: the
// same options, the same help, and the whole tree whenever the command word is not plain.
import { describe, expect, it } from 'vitest';
import { buildProgram, commandWord } from '../../src/cli/program.js';
import { registrars } from '../../src/cli/commands/index.js';
import { signetCli } from './signet.js';

const names = (args?: string[]): string[] => buildProgram(args).commands.map((c) => c.name());

describe('registering only the command being run', () => {
  it('each registrar adds the one command its entry names, in help order', () => {
    expect(names()).toEqual(registrars.map(([name]) => name));
  });

  it('finds the command word past global options and their values', () => {
    const p = buildProgram();
    expect(commandWord(p, ['verify', 'r/app:1'])).toBe('verify');
    expect(commandWord(p, ['-d', '/tmp/td', '--server', 'https://n:4443', '--tofu', 'verify', 'x'])).toBe('verify');
    expect(commandWord(p, ['--trust-dir=/tmp/td', 'sign', 'x'])).toBe('sign');
    // a global option's value is never taken for the command (here a directory named "verify")
    expect(commandWord(p, ['-d', 'verify', 'inspect', 'x'])).toBe('inspect');
    expect(commandWord(p, ['--help'])).toBeUndefined();
    expect(commandWord(p, ['--no-such-flag', 'verify'])).toBeUndefined();
    expect(commandWord(p, [])).toBeUndefined();
  });

  it('builds one command for a known word, the whole tree otherwise', () => {
    expect(names(['-d', '/tmp/td', 'verify', 'r/app:1'])).toEqual(['verify']);
    expect(names(['key', 'list'])).toEqual(['key']);
    expect(names(['--help'])).toEqual(registrars.map(([name]) => name));
    expect(names(['help', 'verify'])).toEqual(registrars.map(([name]) => name));
    expect(names(['verfy'])).toEqual(registrars.map(([name]) => name));
    // completion scripts list every command
    expect(names(['completion', 'bash'])).toEqual(registrars.map(([name]) => name));
  });

  it('a command built alone has the options and help it has in the whole tree', () => {
    for (const [name] of registrars) {
      const alone = buildProgram([name]).commands.find((c) => c.name() === name)!;
      const inTree = buildProgram().commands.find((c) => c.name() === name)!;
      expect(alone.helpInformation(), name).toBe(inTree.helpInformation());
    }
  });

  it('the built CLI still suggests a misspelt command and prints a command help', async () => {
    const cli = signetCli({ trustDir: '/nonexistent-signet-td' });
    const typo = await cli.run(['verfy', 'x']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/Did you mean verify\?/);
    const help = await cli.run(['verify', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: signet verify \[options\] <image\[:tag\]>/);
  });
});
