// Playwright runs the real release server on a fresh SQLite database in a temporary
// directory and drives Debian's Chromium against it. Never downloads a browser.
import { defineConfig } from '@playwright/test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const port = Number(process.env.CURIO_E2E_PORT ?? 3100);
const bin = process.env.CURIO_BIN ?? path.resolve(__dirname, '../target/release/curio');
const siteRoot = process.env.CURIO_SITE_ROOT ?? path.resolve(__dirname, '../target/site');
// Made once in the main process; workers inherit it, so tests can read the database.
process.env.CURIO_E2E_DATA_DIR ??= fs.mkdtempSync(path.join(os.tmpdir(), 'curio-e2e-'));
const dataDir = process.env.CURIO_E2E_DATA_DIR;
process.env.CURIO_BIN = bin;

export default defineConfig({
  testDir: './tests',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  outputDir: './test-results',
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  webServer: {
    // DATABASE_URL is cleared so the browser tests always run on the embedded SQLite.
    // The quick first-start models serve (item-kNN fills "for you"); the full set's
    // background training would take both cores for minutes and time the tests, not the
    // shop. Its swap is tested in server/tests/recs.rs.
    command: `env -u DATABASE_URL "${bin}" serve --addr 127.0.0.1:${port} --data-dir "${dataDir}" --site-root "${siteRoot}" --log warn --no-background-training`,
    url: `http://127.0.0.1:${port}/`,
    reuseExistingServer: false,
    // The first start generates the demo shop (a few seconds).
    timeout: 120_000,
    stdout: 'pipe',
    stderr: 'pipe',
  },
});
