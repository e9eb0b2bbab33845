import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { exampleTariff } from './fixtures.js';
import { parseTariff } from './schedule.js';

describe("the README's tariff section", () => {
  it('shows the example tariff the tests use, and it parses', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('\n## tariff\n'));
    const json = /```json\n([\s\S]*?)```/.exec(section)?.[1];
    expect(json).toBeDefined();
    const shown = JSON.parse(json!) as unknown;
    expect(shown).toEqual(exampleTariff());
    expect(parseTariff(shown).bands).toHaveLength(3);
  });
});
