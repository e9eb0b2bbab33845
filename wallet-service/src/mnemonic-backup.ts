import { randomInt } from 'node:crypto';

/** A terminal conversation: text out, one answered line in (undefined when the input ends). */
export interface Prompt {
  write(text: string): void;
  ask(question: string): Promise<string | undefined>;
}

/** Erases the screen and its scrollback, so the words do not stay readable on it. */
export const CLEAR_SCREEN = '\x1b[2J\x1b[3J\x1b[H';

/** The words numbered in four columns, read down each column. */
export function wordGrid(words: readonly string[]): string {
  const rows = Math.ceil(words.length / 4);
  const width = Math.max(...words.map((w) => w.length));
  const lines: string[] = [];
  for (let row = 0; row < rows; row++) {
    const cells: string[] = [];
    for (let col = 0; col < 4; col++) {
      const i = col * rows + row;
      if (i < words.length) cells.push(`${String(i + 1).padStart(2)}. ${words[i]!.padEnd(width)}`);
    }
    lines.push(`  ${cells.join('   ').trimEnd()}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Two different word positions (1-based, ascending) to ask back. */
export function confirmationPositions(count: number, draw = randomInt): [number, number] {
  const first = draw(1, count + 1);
  let second = draw(1, count);
  if (second >= first) second++;
  return first < second ? [first, second] : [second, first];
}

/**
 * Shows the words once and asks two of them back, so the user has written them down before the keystore is
 * the only copy. True when confirmed (the screen is then cleared); false when the input ends or after
 * `attempts` wrong answers.
 */
export async function showAndConfirm(
  words: readonly string[],
  prompt: Prompt,
  positions: [number, number] = confirmationPositions(words.length),
  attempts = 3,
): Promise<boolean> {
  prompt.write(
    `\nWrite these ${words.length} words down on paper, in order. With the keystore's password they are the\n` +
      'only way to restore this wallet if the keystore file is lost. They are shown this once.\n\n' +
      `${wordGrid(words)}\n`,
  );
  for (let attempt = 1; attempt <= attempts; attempt++) {
    let right = true;
    for (const position of positions) {
      const answer = await prompt.ask(`Type word #${position} from your paper: `);
      if (answer === undefined) return false;
      if (answer.trim().toLowerCase() !== words[position - 1]) right = false;
    }
    if (right) {
      prompt.write(
        `${CLEAR_SCREEN}Confirmed: the words are written down. Keep the paper offline and safe.\n`,
      );
      return true;
    }
    if (attempt < attempts)
      prompt.write('That is not what the list says at those positions: check your paper.\n');
  }
  return false;
}
