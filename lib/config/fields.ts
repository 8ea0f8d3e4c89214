/**
 * The zod building blocks of cdk.json's settings, shared by the environment's schema and
 * the Ollama modes' schema, so every message reads alike ("is required", "must be ...").
 */
import { z } from "zod";

export const required = (what: string) => ({
  error: (issue: { input?: unknown }) =>
    issue.input === undefined ? "is required" : `must be ${what}`,
});

export const whole = (min: number, max: number) =>
  z
    .number(required(`a whole number from ${min} to ${max}`))
    .int({ error: `must be a whole number from ${min} to ${max}` })
    .min(min, { error: `must be at least ${min}` })
    .max(max, { error: `must be at most ${max}` });
