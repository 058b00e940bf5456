// The headers every answer of ours carries, in the desktop app (app://studio/) and in browser mode
// alike: one Content-Security-Policy, written once, so the two hosts cannot drift. Plain strings,
// importable without Electron.

/** Our own scripts only, no eval, nothing remote, no frames of us elsewhere, no form posting anywhere. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/** Sent with every page, asset and refusal by both hosts. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  // Another origin may not load our pages or assets into its own (a script tag, an img): they are ours alone.
  'cross-origin-resource-policy': 'same-origin',
};
