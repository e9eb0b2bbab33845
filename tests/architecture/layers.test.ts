import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The house plan of docs/architecture.md, checked: each workspace's floor and which of ours it may import.
 * A workspace imports only from floors below it (the dashboard and the market take only part of one).
 */
const BELOW_PROCESSES = [
  'errors',
  'ledger',
  'journal',
  'contract',
  'channels',
  'market',
  'tariff',
  'bills',
] as const;
const PROCESSES = ['wallet-service', 'meter-agent', 'dashboard'] as const;

const MAY_IMPORT: Record<string, readonly string[]> = {
  errors: [],
  ledger: ['errors'],
  journal: ['errors'],
  contract: ['errors'],
  // tariff imports nothing of ours but errors, so channels → tariff (verify-period --tariff) closes no cycle.
  channels: ['errors', 'ledger', 'journal', 'tariff'],
  market: ['errors', 'contract'],
  tariff: ['errors'],
  bills: ['errors', 'contract', 'tariff', 'ledger', 'channels'],
  'wallet-service': BELOW_PROCESSES,
  'meter-agent': BELOW_PROCESSES,
  dashboard: ['errors', 'ledger', 'contract', 'channels'],
  deploy: [...BELOW_PROCESSES, ...PROCESSES],
  tests: [...BELOW_PROCESSES, ...PROCESSES, 'deploy'],
};

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SCOPE = '@tanglewatt/';

function workspaces(): string[] {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { workspaces: string[] };
  return manifest.workspaces;
}

function declaredDependencies(workspace: string): string[] {
  const manifest = JSON.parse(readFileSync(join(ROOT, workspace, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
  };
  return Object.keys({ ...manifest.dependencies, ...manifest.devDependencies })
    .filter((name) => name.startsWith(SCOPE))
    .map((name) => name.slice(SCOPE.length));
}

function sourceFiles(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules' || entry === 'dist' || entry.startsWith('.')) continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) found.push(...sourceFiles(path));
    else if (/\.(ts|tsx|mts)$/.test(entry) && !entry.endsWith('.d.ts')) found.push(path);
  }
  return found;
}

interface ImportSite {
  file: string;
  specifier: string;
  typeOnly: boolean;
}

const IMPORT = /^\s*(import|export)\s+(type\s+)?[^'";]*?from\s+['"]([^'"]+)['"]/gm;
const DYNAMIC = /import\(\s*['"]([^'"]+)['"]\s*\)/g;

function importsOf(file: string): ImportSite[] {
  const text = readFileSync(file, 'utf8');
  const sites: ImportSite[] = [];
  for (const match of text.matchAll(IMPORT)) {
    sites.push({ file, specifier: match[3] as string, typeOnly: match[2] !== undefined });
  }
  for (const match of text.matchAll(DYNAMIC))
    sites.push({ file, specifier: match[1] as string, typeOnly: false });
  return sites;
}

function workspaceOf(path: string): string | undefined {
  const first = relative(ROOT, path).split(sep)[0];
  return first !== undefined && first in MAY_IMPORT ? first : undefined;
}

/** A test-support file that imports nothing of ours (no workspace, no relative path), so borrowing it adds no arrow. */
function isLeafHelper(target: string): boolean {
  const file = target.replace(/\.js$/, '.ts');
  if (!existsSync(file)) return false;
  return importsOf(file).every(
    (site) => !site.specifier.startsWith('.') && !site.specifier.startsWith(SCOPE),
  );
}

describe('the house plan', () => {
  it('gives every workspace a floor', () => {
    expect(workspaces().filter((w) => !(w in MAY_IMPORT))).toEqual([]);
  });

  it('lets no package.json depend on a workspace above or beside it', () => {
    const broken: string[] = [];
    for (const workspace of workspaces()) {
      for (const dependency of declaredDependencies(workspace)) {
        if (!MAY_IMPORT[workspace]?.includes(dependency)) broken.push(`${workspace} → ${dependency}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('imports only workspaces the package.json declares and the plan allows', () => {
    const broken: string[] = [];
    for (const workspace of workspaces()) {
      const declared = declaredDependencies(workspace);
      for (const file of sourceFiles(join(ROOT, workspace))) {
        for (const site of importsOf(file)) {
          if (!site.specifier.startsWith(SCOPE)) continue;
          const target = site.specifier.slice(SCOPE.length).split('/')[0] as string;
          if (target === workspace) continue;
          if (!declared.includes(target) || !MAY_IMPORT[workspace]?.includes(target)) {
            broken.push(`${relative(ROOT, file)} imports ${site.specifier}`);
          }
        }
      }
    }
    expect(broken).toEqual([]);
  });

  it('never reaches into another workspace by a relative path (a test may borrow a leaf helper)', () => {
    const broken: string[] = [];
    for (const workspace of workspaces()) {
      for (const file of sourceFiles(join(ROOT, workspace))) {
        for (const site of importsOf(file)) {
          if (!site.specifier.startsWith('.')) continue;
          const target = resolve(dirname(file), site.specifier);
          const targetWorkspace = workspaceOf(target);
          if (targetWorkspace === undefined || targetWorkspace === workspace || !existsSync(dirname(target)))
            continue;
          if (/\.test\.tsx?$/.test(file) && isLeafHelper(target)) continue;
          broken.push(`${relative(ROOT, file)} imports ${site.specifier}`);
        }
      }
    }
    expect(broken).toEqual([]);
  });
});
