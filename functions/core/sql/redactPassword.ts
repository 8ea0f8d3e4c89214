/** `postgres://user:***@host/db`: a connection URL fit for a banner or a log line. */
export function redactPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    // Not a URL `new URL` accepts: still never print what follows `user:`.
    return url.replace(/\/\/([^:/@]+):[^@]*@/, "//$1:***@");
  }
}
