import { describe, expect, it } from 'vitest';
import { didKeyInForce } from './market-books.js';

const OLD = 'aa'.repeat(32);
const NEW = 'bb'.repeat(32);

function version(
  fromMilestone: number,
  untilMilestone: number | undefined,
  keys: string[],
  deactivated = false,
) {
  return {
    outputId: `0x${'00'.repeat(34)}`,
    fromMilestone,
    ...(untilMilestone === undefined ? {} : { untilMilestone }),
    methods: keys.map((publicKey, i) => ({ id: `#k${i}`, publicKey })),
    publicKeys: [],
    deactivated,
  };
}

describe('DID identities on the market', () => {
  const history = [version(10, 20, [OLD]), version(20, 30, [NEW]), version(30, undefined, [NEW], true)];

  it('takes the key from the document version in force when the message was confirmed', () => {
    expect(didKeyInForce(history, 10, OLD)).toBe(true);
    expect(didKeyInForce(history, 19, OLD)).toBe(true);
    expect(didKeyInForce(history, 20, OLD)).toBe(false);
    expect(didKeyInForce(history, 20, NEW)).toBe(true);
  });

  it('authorizes nothing before the DID existed or after it was deactivated', () => {
    expect(didKeyInForce(history, 9, OLD)).toBe(false);
    expect(didKeyInForce(history, 30, NEW)).toBe(false);
    expect(didKeyInForce([], 15, OLD)).toBe(false);
  });
});
