/** `signet inspect IMAGE[:TAG]…`: `docker trust inspect` output (JSON by default, or --pretty). */
import type { Command } from 'commander';
import type { InspectResult, RoleSignatureRow } from '../../client/index.js';
import { formatTable } from '../output.js';
import { clientContext, runAction } from './common.js';

export function prettyInspect(r: InspectResult): string {
  let s = '';
  if (r.SignedTags.length === 0) s += `\nNo signatures for ${r.Name}\n\n`;
  else {
    s += `\nSignatures for ${r.Name}\n\n`;
    s += formatTable(
      ['SIGNED TAG', 'DIGEST', 'SIGNERS'],
      r.SignedTags.map((t) => [t.SignedTag, t.Digest, t.Signers.join(', ')]),
    );
  }
  if (r.Signers.length > 0) {
    s += `\nList of signers and their keys for ${r.Name}\n\n`;
    const rows = [...r.Signers]
      .sort((a, b) => (a.Name < b.Name ? -1 : 1))
      .map((x) => [x.Name, x.Keys.map((k) => k.ID.slice(0, 12)).join(', ')]);
    s += formatTable(['SIGNER', 'KEYS'], rows);
  }
  s += `\nAdministrative keys for ${r.Name}\n\n`;
  for (const a of [...r.AdministrativeKeys].reverse()) {
    s += `  ${a.Name === 'Root' ? 'Root Key' : 'Repository Key'}:\t${a.Keys.map((k) => k.ID)
      .sort()
      .join(', ')}\n`;
  }
  return s;
}

/** The roles table: threshold, keys and valid signatures of each role. */
export function prettyRoles(name: string, rows: RoleSignatureRow[]): string {
  const short = (ids: string[]): string => ids.map((id) => id.slice(0, 12)).join(', ');
  return (
    `\nRoles and signatures for ${name}\n\n` +
    formatTable(
      ['ROLE', 'THRESHOLD', 'SIGNED', 'SIGNED BY', 'SIGNERS'],
      rows.map((r) => [
        r.Role,
        String(r.Threshold),
        `${r.SignedBy.length}/${r.Keys.length}${r.Valid ? '' : ' (not trusted: no file meeting the threshold)'}`,
        short(r.SignedBy),
        r.Signers.join(', '),
      ]),
    )
  );
}

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description('show signed tags, signers and administrative keys (the JSON of `docker trust inspect`)')
    .argument('<image...>', 'IMAGE or IMAGE:TAG')
    .option('--pretty', 'human-friendly tables instead of JSON')
    .option('--json', 'JSON output (the default)')
    .option(
      '--roles',
      'also show each role\'s threshold and the keys with valid signatures ("Roles" in the JSON; shown by --pretty whenever a threshold is above 1)',
    )
    .action(async (images: string[], opts: { pretty?: boolean; json?: boolean; roles?: boolean }, cmd: Command) =>
      runAction(opts.json === true, async () => {
        const ctx = await clientContext(cmd);
        const { formatInspectJson, inspectRepo, roleSignatureRows } = await import('../../client/index.js');
        const { publicKeyFromJson } = await import('../../tuf/index.js');
        const results: (InspectResult & { Roles?: RoleSignatureRow[] })[] = [];
        const pretty: string[] = [];
        for (const image of images) {
          const { repo, ref, close } = ctx.repository(image);
          try {
            const view = await repo.read();
            const r = inspectRepo(image, view, ref.tag ?? '', (k) => publicKeyFromJson(k).canonicalId);
            const roles = roleSignatureRows(view);
            results.push(opts.roles ? { ...r, Roles: roles } : r);
            const showRoles = opts.roles === true || roles.some((x) => x.Threshold > 1);
            pretty.push(prettyInspect(r) + (showRoles ? prettyRoles(image, roles) : ''));
          } finally {
            await close();
          }
        }
        if (opts.pretty && !opts.json) ctx.out.out(pretty.join('\n\n'));
        else ctx.out.out(formatInspectJson(results));
      }),
    );
}
