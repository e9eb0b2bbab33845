import { readFileSync } from 'node:fs';
import { exampleTariff } from '@tanglewatt/tariff/testing';
import { describe, expect, it } from 'vitest';
import { parseAllocationConfig } from './allocation-config.js';
import { parseBillConfig } from './config.js';

describe("the README's Member bills section", () => {
  it('shows a bill config that parses', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('\n## Member bills\n'));
    const json = /```json\n([\s\S]*?)```/.exec(section)?.[1];
    expect(json).toBeDefined();
    const config = parseBillConfig(JSON.parse(json!), { from: '2026-11-01', to: '2026-11-30' });
    expect(config.timeZone).toBe('Europe/Berlin');
    expect(config.retail.byBand.size).toBe(2);
  });
});

describe("the README's Allocation section", () => {
  it('shows an allocation config that parses (with the example tariff for its file)', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('\n### Allocation\n'));
    const json = JSON.parse(/```json\n([\s\S]*?)```/.exec(section)![1]!) as { tariff: unknown };
    expect(json.tariff).toBe('community-tariff.json');
    const config = parseAllocationConfig({ ...json, tariff: exampleTariff() });
    expect(config.members.map((m) => m.keyPercent)).toEqual(['60', '25']);
  });
});
