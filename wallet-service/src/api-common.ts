import type { Request, Response } from 'express';
import type { z } from 'zod';
import { HttpError } from './http-errors.js';

/** A route's handler; createApi registers each from the contract's route table. */
export type Handler = (req: Request, res: Response) => unknown;

export function fromZod(error: z.ZodError): HttpError {
  const issue = error.issues[0]!;
  const field = issue.path.join('.');
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') message = `unknown field(s): ${issue.keys.join(', ')}`;
  return new HttpError('INVALID_REQUEST', field ? `${field}: ${message}` : message, field || undefined);
}

/** A request part as the route's schema reads it; else a 400 naming the field at fault. */
export function valid<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw fromZod(parsed.error);
  return parsed.data;
}
