import { describe, expect, it } from 'vitest';
import { indexerArgs } from './indexer.js';

describe('indexer command line', () => {
  it('binds the API to loopback and keeps the store under the data dir', () => {
    expect(
      indexerArgs({ binary: '/bin/x', inxAddress: '127.0.0.1:9029', dataDir: '/var/lib/idx' }, 9092),
    ).toEqual(['--inx.address=127.0.0.1:9029', '--db=/var/lib/idx/db', '--api.bindAddress=127.0.0.1:9092']);
  });

  it('passes tag prefixes but never the token', () => {
    const args = indexerArgs(
      {
        binary: '/bin/x',
        inxAddress: 'a:1',
        dataDir: '/d',
        tags: ['tanglewatt/', 'tw/ch/'],
        token: 'secret',
      },
      1,
    );
    expect(args).toContain('--tags=tanglewatt/,tw/ch/');
    expect(args.join(' ')).not.toContain('secret');
  });
});
