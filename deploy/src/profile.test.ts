import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bech32ToHex, genesisOutputId } from '@tanglewatt/ledger';
import { describe, expect, it } from 'vitest';
import { durationMs, loadProfile, loadProtocolParameters, planGenesis } from './profile.js';

async function profileFile(content: unknown): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), 'profile-')), 'p.json');
  await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

describe('loadProfile', () => {
  it('loads the development profile by name', async () => {
    const profile = await loadProfile('development');
    expect(profile.name).toBe('development');
    expect(profile.milestoneInterval).toBe('5s');
    expect(profile.notice).toMatch(/DEVELOPMENT ONLY/);
  });

  it('names the key and what is allowed when a value is wrong', async () => {
    const file = await profileFile({
      name: 'x',
      genesis: { mintAddress: 'watt1x', addresses: [{ address: 'watt1y', amount: '-5' }] },
    });
    await expect(loadProfile(file)).rejects.toThrow(/genesis/);
    const bad = await profileFile({
      name: 'x',
      milestoneInterval: 'soon',
      genesis: { mintAddress: 'a', addresses: [] },
    });
    await expect(loadProfile(bad)).rejects.toThrow(
      `${bad}: milestoneInterval: a duration such as 1s, 500ms or 2m`,
    );
  });

  it('rejects broken JSON and missing files in one line', async () => {
    await expect(loadProfile(await profileFile('{'))).rejects.toThrow(/not valid JSON/);
    await expect(loadProfile('/nonexistent/p.json')).rejects.toThrow(/cannot be read/);
  });
});

describe('planGenesis', () => {
  it('orders allocations as snap-gen writes them and gives each its output id', async () => {
    const plan = await planGenesis(await loadProfile('development'), await loadProtocolParameters());
    expect(plan.allocations).toHaveLength(48);
    expect(plan.mintOutputId).toBe(genesisOutputId(0));
    const keys = plan.allocations.map((a) => bech32ToHex(a.address));
    expect(keys).toEqual([...keys].sort());
    plan.allocations.forEach((a, i) => {
      expect(a.outputId).toBe(genesisOutputId(i + 1));
      expect(a.amount).toBe(10_000_000_000n);
    });
    expect(new Set(plan.allocations.map((a) => a.accountIndex))).toEqual(
      new Set(Array.from({ length: 48 }, (_, i) => i + 1)),
    );
  });

  it('rejects an address with another HRP, naming it', async () => {
    const protocol = await loadProtocolParameters();
    const profile = await loadProfile(
      await profileFile({
        name: 'p',
        genesis: {
          mintAddress: 'rms1qzs3qemhgfk60nz782c2kqpww89duew9lgd3nyxnv4vj99p484jywsa6cqc',
          addresses: [],
        },
      }),
    );
    await expect(planGenesis(profile, protocol)).rejects.toThrow(/genesis address #0 .* with HRP "watt"/);
  });

  it('rejects genesis amounts that reach the token supply', async () => {
    const protocol = await loadProtocolParameters();
    const dev = await loadProfile('development');
    const greedy = {
      ...dev,
      genesis: { ...dev.genesis, fundedAccounts: { first: 1, count: 2, amount: protocol.tokenSupply } },
    };
    await expect(planGenesis(greedy as typeof dev, protocol)).rejects.toThrow(
      /must stay below the token supply/,
    );
  });
});

describe('durationMs', () => {
  it('reads ms, s and m', () => {
    expect(durationMs('500ms')).toBe(500);
    expect(durationMs('1s')).toBe(1000);
    expect(durationMs('2m')).toBe(120_000);
    expect(() => durationMs('1h')).toThrow(/use a number with ms, s or m/);
  });
});
