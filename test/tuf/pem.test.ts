/**
 * The one PEM reader (src/tuf/pem.ts): Go encoding/pem's rules, and linear time on the inputs that
 * made the regular expressions it replaced quadratic.
 */
import { describe, expect, it } from 'vitest';
import { pemBlocks, pemEncode, scanPem } from '../../src/tuf/index.js';
import { decodePemBlocks, encodePem } from '../../src/keys/index.js';
import { thrownCode } from '../helpers/errors.js';

const B = (type: string, body = 'AAEC'): string => `-----BEGIN ${type}-----\n${body}\n-----END ${type}-----\n`;

describe('PEM blocks as Go reads them', () => {
  it('reads blocks with CRLF line ends and trailing blanks, and gives each block its place in the text', () => {
    const text = 'intro\r\n-----BEGIN X-----  \r\nAA EC\t\r\n-----END X-----\r\nbetween\n' + B('Y');
    const blocks = pemBlocks(text);
    expect(blocks.map((b) => [b.type, b.bytes.toString('hex')])).toEqual([
      ['X', '000102'],
      ['Y', '000102'],
    ]);
    expect(text.slice(blocks[1]?.start, blocks[1]?.end)).toBe(B('Y'));
    expect(text.slice(blocks[0]?.start, blocks[0]?.end)).toBe('-----BEGIN X-----  \r\nAA EC\t\r\n-----END X-----\r\n');
  });

  it('reads headers, last value wins, and a __proto__ header is a plain header', () => {
    const [b] = pemBlocks('-----BEGIN K-----\nrole: root\n__proto__ : x\nrole:  targets \n\nAAEC\n-----END K-----\n');
    expect(b?.headers).toEqual(JSON.parse('{"role":"targets","__proto__":"x"}'));
    expect(Object.getPrototypeOf(b?.headers)).toBe(Object.prototype);
  });

  it('skips malformed blocks and goes on: no END, mismatched END, bad base64, BEGIN inside a body', () => {
    const text = [
      '-----BEGIN A-----\nAAEC\n-----END B-----\n', // mismatched
      '-----BEGIN C-----\nAA!C\n-----END C-----\n', // not base64
      '-----BEGIN D-----\nAAEC\n', // runs into the next BEGIN
      B('E'),
      '-----BEGIN F-----\nAAEC\n', // no END at all
    ].join('');
    const { blocks, problems } = scanPem(text);
    expect(blocks.map((b) => b.type)).toEqual(['E']);
    expect(problems.map((p) => p.type)).toEqual(['A', 'C', 'D', 'F']);
    expect(problems[0]?.problem).toMatch(/mismatched END/);
  });

  it('an END line right after headers is body (Go looks for "\\n-----END "), so the block is skipped', () => {
    expect(pemBlocks('-----BEGIN K-----\nrole: x\n-----END K-----\n')).toEqual([]);
    expect(pemBlocks('-----BEGIN K-----\n-----END K-----\n').map((b) => b.bytes.length)).toEqual([0]);
  });

  it('encodes as Go pem.Encode (64 columns, headers, blank line) and reads its own output back', () => {
    const bytes = Buffer.alloc(100, 7);
    const pem = pemEncode('T', bytes, [['role', 'root']]);
    expect(pem.split('\n').map((l) => l.length)).toEqual([17, 10, 0, 64, 64, 8, 15, 0]);
    const keyPem = encodePem({ type: 'T', headers: { role: 'root' }, bytes });
    expect(keyPem).toBe(pem);
    const [b] = decodePemBlocks(keyPem);
    expect(b?.bytes.equals(bytes)).toBe(true);
    expect(b?.headers).toEqual({ role: 'root' });
  });

  it('key files refuse a malformed block instead of skipping it (KEY_FILE)', () => {
    expect(thrownCode(() => decodePemBlocks('-----BEGIN PRIVATE KEY-----\nAAEC\n'))).toBe('KEY_FILE');
    expect(thrownCode(() => decodePemBlocks(B('X') + '-----BEGIN A-----\n'))).toBe('KEY_FILE');
  });

  it('is linear on the inputs that made the regular expressions quadratic', () => {
    const MiB = 1024 * 1024;
    const inputs = {
      // finding 1: 64 KiB of repeated BEGIN lines cost 150 ms a parse; 1 MiB here
      'repeated BEGIN lines': '-----BEGIN A-----\n'.repeat(MiB / 18),
      // finding 10: key import of repeated private-key BEGIN lines (560 KB took 8.6 s)
      'repeated key BEGIN lines': '-----BEGIN ENCRYPTED PRIVATE KEY-----\nrole: x\n'.repeat(MiB / 46),
      'many BEGIN lines then one END':
        '-----BEGIN A-----\n'.repeat(MiB / 36) + 'AAAA\n'.repeat(MiB / 10) + '-----END A-----\n',
      'blanks before a non-blank': `-----BEGIN A-----\n${' '.repeat(MiB)}x\n-----END A-----\n`,
      'headers without end': '-----BEGIN A-----\n' + 'k: v\n'.repeat(MiB / 5),
    };
    for (const [name, text] of Object.entries(inputs)) {
      const t0 = performance.now();
      scanPem(text);
      const ms = performance.now() - t0;
      console.log(`scanPem, ${name} (${(text.length / MiB).toFixed(1)} MiB): ${ms.toFixed(0)} ms`);
      // well under a second even on a loaded machine; the regular expressions took minutes on these
      expect(ms, name).toBeLessThan(5000);
    }
  });
});
