import { describe, expect, it } from 'vitest';
import {
  CLEAR_SCREEN,
  confirmationPositions,
  type Prompt,
  showAndConfirm,
  wordGrid,
} from './mnemonic-backup.js';

const words = Array.from({ length: 24 }, (_, i) => `zz${String.fromCharCode(97 + i).repeat(2)}`);

/** A terminal whose user types `answers` in turn, then ends the input. */
function scripted(answers: string[]): Prompt & { output: string; questions: string[] } {
  const terminal = {
    output: '',
    questions: [] as string[],
    write(text: string) {
      terminal.output += text;
    },
    async ask(question: string) {
      terminal.questions.push(question);
      return answers.shift();
    },
  };
  return terminal;
}

describe('showing the words once', () => {
  it('numbers all 24 words in four columns of six', () => {
    const grid = wordGrid(words);
    expect(grid.trimEnd().split('\n')).toHaveLength(6);
    for (const [i, word] of words.entries()) expect(grid).toMatch(new RegExp(`\\b${i + 1}\\. ${word}\\b`));
    expect(grid.split('\n')[0]).toMatch(/^ {3}1\. zzaa +7\. zzgg +13\. zzmm +19\. zzss$/);
  });

  it('asks two different positions within the list, any pair of them', () => {
    const pairs = new Set<string>();
    for (let first = 1; first <= 24; first++) {
      for (let second = 1; second <= 23; second++) {
        const draws = [first, second];
        const [a, b] = confirmationPositions(24, () => draws.shift()!);
        expect(1 <= a && a < b && b <= 24).toBe(true);
        pairs.add(`${a},${b}`);
      }
    }
    expect(pairs.size).toBe((24 * 23) / 2);
  });

  it('confirms when the user types back the asked words, then clears the screen', async () => {
    const terminal = scripted(['zzcc', ' ZZQQ ']);
    expect(await showAndConfirm(words, terminal, [3, 17])).toBe(true);
    expect(terminal.questions).toEqual(['Type word #3 from your paper: ', 'Type word #17 from your paper: ']);
    expect(terminal.output).toContain(wordGrid(words));
    expect(terminal.output.lastIndexOf(CLEAR_SCREEN)).toBeGreaterThan(terminal.output.indexOf('zzxx'));
    expect(terminal.output.slice(terminal.output.lastIndexOf(CLEAR_SCREEN))).not.toMatch(/zz[a-x]{2}/);
  });

  it('asks again after a wrong answer, and gives up after three', async () => {
    const retried = scripted(['zzcc', 'zzpp', 'zzcc', 'zzqq']);
    expect(await showAndConfirm(words, retried, [3, 17])).toBe(true);
    expect(retried.output).toContain('That is not what the list says at those positions');

    const wrong = scripted(['x', 'y', 'x', 'y', 'x', 'y', 'zzcc', 'zzqq']);
    expect(await showAndConfirm(words, wrong, [3, 17])).toBe(false);
    expect(wrong.questions).toHaveLength(6);
    expect(wrong.output).not.toContain(CLEAR_SCREEN);
  });

  it('stops unconfirmed when the input ends', async () => {
    expect(await showAndConfirm(words, scripted(['zzcc']), [3, 17])).toBe(false);
  });
});
