/** A y/N question on the terminal (stderr), for destructive commands run by a person. */

export async function confirm(
  question: string,
  io: { input: NodeJS.ReadableStream; output: NodeJS.WritableStream } = {
    input: process.stdin,
    output: process.stderr,
  },
): Promise<boolean> {
  // loaded here: most commands never ask
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: io.input, output: io.output, terminal: false });
  try {
    io.output.write(`${question} [y/N] `);
    const answer = await new Promise<string>((resolve) => {
      rl.once('line', resolve);
      rl.once('close', () => resolve(''));
    });
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
