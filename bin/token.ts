import { readSettings } from "../functions/core/config/settings";
import { SettingsError } from "../functions/core/errors";
import { LocalSettingsSchema } from "../functions/local/settings";
import { signLocalToken } from "../functions/local/token";

/**
 * `npm run token -- <caller> [expiry]`: prints a token the local runtime accepts, signed with
 * LOCAL_JWT_SECRET (default `local-dev-secret`), for `Authorization: Bearer <token>`.
 * The caller becomes the token's `sub`, the owner of the tasks it creates. Expiry is a
 * time span such as `30m` or `7d` (default 12h).
 */

const [sub, expiresIn] = process.argv.slice(2);
if (!sub || sub.startsWith("-")) {
  process.stderr.write("usage: npm run token -- <caller> [expiry, e.g. 30m, 12h, 7d]\n");
  process.exit(2);
}
try {
  const { LOCAL_JWT_SECRET } = readSettings(LocalSettingsSchema.pick({ LOCAL_JWT_SECRET: true }));
  process.stdout.write(`${await signLocalToken({ sub, secret: LOCAL_JWT_SECRET, expiresIn })}\n`);
} catch (error) {
  const message =
    error instanceof SettingsError ? error.message : `could not sign: ${(error as Error).message}`;
  process.stderr.write(`npm run token: ${message}\n`);
  process.exit(1);
}
