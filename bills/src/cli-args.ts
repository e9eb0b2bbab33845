import { InvalidArgumentError } from 'commander';

/** A Commander argument parser for an http(s) URL option; anything else is a one-line usage error naming it. */
export function httpUrl(field: string) {
  return (value: string): string => {
    try {
      const parsed = new URL(value);
      if (parsed.protocol === 'http:' || parsed.protocol === 'https:') return value;
    } catch {}
    throw new InvalidArgumentError(`${field}: an http(s) URL such as http://127.0.0.1:9092`);
  };
}
