// What the app tests on S3 share: the gateway's keys in this process's environment (the Studio
// runs here and takes them from the AWS chain, as a user's would), and opening a bucket through
// the page's Open workspace form with the gateway's endpoint.
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { gatewayEnv, useGatewayEnv } from './shared-gateway.js';

/** The gateway's keys (and `extra`) in process.env for the describe block, put back after it; the endpoint is typed into the form instead. */
export function useGatewayKeys(extra: () => Record<string, string> = () => ({})): void {
  useGatewayEnv({ withEndpoint: false, extra });
}

/** Opens `address` (no trailing slash) with Open workspace… and the gateway's endpoint, and waits for the page to show it. */
export async function openBucketInApp(page: Page, address: string): Promise<void> {
  await page.getByRole('button', { name: 'Open workspace…' }).click();
  const form = page.getByRole('form', { name: 'Open workspace' });
  await form.getByLabel('Workspace folder').fill(address);
  await form.getByLabel('Endpoint').fill(gatewayEnv()['AWS_ENDPOINT_URL'] ?? '');
  // The page says where credentials come from: they never pass through it.
  await expect.poll(() => form.getByText(/Credentials come from the profile/).count()).toBe(1);
  await form.getByRole('button', { name: 'Open', exact: true }).click();
  await expect.poll(async () => (await page.getByTestId('workspace-path').textContent())?.trim()).toBe(`${address}/`);
}
