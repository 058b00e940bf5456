// Kept in step with package.json by test/version.test.ts; a JSON import would pull package.json
// into the build output's module graph.
export const STUDIO_VERSION = '0.1.0';
