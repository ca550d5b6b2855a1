// Lighthouse-style figures for the home page of the release build, measured in headless
// Chromium and printed (a measurement, not a pass/fail target: the README records them).
// - first contentful paint (the browser's paint timing);
// - time to interactive, taken as the moment the app marks <body data-hydrated="true">
//   (the WASM loaded, hydrated, and event handlers attached);
// - the JS and WASM the page loaded: bytes as Chromium received them (the server's choice
//   of encoding, brotli for Chromium), and as gzip (the same URLs asked for with
//   `accept-encoding: gzip` only).
// Median of 3 cold loads (new browser context, no cache), on loopback and again over an
// emulated 10 Mbit/s link with 40 ms latency. The other pages' code is in
// chunks loaded when they are first opened, so it is not part of these figures.
import { test, expect, type Browser } from '@playwright/test';
import * as http from 'node:http';

function gzipBytes(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers: { 'accept-encoding': 'gzip' } }, (res) => {
        let n = 0;
        res.on('data', (chunk: Buffer) => (n += chunk.length));
        res.on('end', () => resolve(n));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

type Network = { label: string; latencyMs: number; downMbps: number } | null;

// Three cold loads of the home page (new browser context, cache off), optionally over an
// emulated link; medians of first contentful paint, hydration and bytes received.
async function coldLoads(browser: Browser, network: Network) {
  const fcp: number[] = [];
  const tti: number[] = [];
  const received: number[] = [];
  let assets: string[] = [];
  for (let run = 0; run < 3; run++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.addInitScript(() => {
      const w = window as unknown as { hydratedAt?: number };
      new MutationObserver(() => {
        if (w.hydratedAt === undefined && document.body?.dataset.hydrated === 'true') {
          w.hydratedAt = performance.now();
        }
      }).observe(document, { attributes: true, subtree: true, attributeFilter: ['data-hydrated'] });
    });
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    if (network) {
      await cdp.send('Network.emulateNetworkConditions', {
        offline: false,
        latency: network.latencyMs,
        downloadThroughput: (network.downMbps * 1e6) / 8,
        uploadThroughput: (network.downMbps * 1e6) / 16,
      });
    }
    const urls = new Map<string, string>();
    let bytes = 0;
    cdp.on('Network.responseReceived', (e) => urls.set(e.requestId, e.response.url));
    cdp.on('Network.loadingFinished', (e) => {
      const url = urls.get(e.requestId) ?? '';
      if (/\.(js|wasm)(\?|$)/.test(url)) {
        bytes += e.encodedDataLength;
      }
    });
    await page.goto('/');
    await expect(page.locator('body[data-hydrated="true"]')).toBeAttached({ timeout: 20_000 });
    await page.waitForLoadState('networkidle');
    const timing = await page.evaluate(() => ({
      fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN,
      tti: (window as unknown as { hydratedAt?: number }).hydratedAt ?? NaN,
    }));
    fcp.push(timing.fcp);
    tti.push(timing.tti);
    received.push(bytes);
    assets = [...new Set([...urls.values()].filter((u) => /\.(js|wasm)(\?|$)/.test(u)))];
    await context.close();
  }
  return { fcp: median(fcp), tti: median(tti), received: median(received), assets };
}

test('home page: first paint, time to interactive, JS + WASM transferred', async ({ browser, baseURL }) => {
  test.setTimeout(120_000);
  const local = await coldLoads(browser, null);
  const assets = local.assets;
  let gzip = 0;
  for (const url of assets) {
    gzip += await gzipBytes(new URL(new URL(url).pathname, baseURL).toString());
  }
  console.log(
    `home page, median of 3 cold loads: first contentful paint ${local.fcp.toFixed(0)} ms, ` +
      `interactive (hydrated) ${local.tti.toFixed(0)} ms, JS + WASM received ` +
      `${(local.received / 1024).toFixed(0)} KiB (${assets.length} files, as served to Chromium), ` +
      `${(gzip / 1024).toFixed(0)} KiB as gzip`,
  );
  // Loopback hides what the bytes cost: the same loads over an emulated 10 Mbit/s link
  // with 40 ms latency (Chromium's network emulation).
  const link = { label: '10 Mbit/s, 40 ms', latencyMs: 40, downMbps: 10 };
  const slow = await coldLoads(browser, link);
  console.log(
    `home page over ${link.label}, median of 3 cold loads: first contentful paint ` +
      `${slow.fcp.toFixed(0)} ms, interactive (hydrated) ${slow.tti.toFixed(0)} ms`,
  );
  console.log(`home page loaded: ${assets.map((u) => new URL(u).pathname).join(', ')}`);
  expect(assets.length).toBeGreaterThanOrEqual(2);
  // Every other page is split out of the main WASM file (cargo leptos build --split):
  // the home page must not need any of their chunks.
  expect(assets.filter((u) => /\/(split_|chunk_)[^/]*\.wasm/.test(u))).toEqual([]);
  expect(local.fcp).toBeGreaterThan(0);
  expect(local.tti).toBeGreaterThanOrEqual(local.fcp);
  // The emulated link is in effect: the JS + WASM alone take this long to arrive over it,
  // after at least one round trip. (Not `slow > local`: on a slow, busy CPU, hydration
  // dominates both and their medians can come out either way.)
  const transferMs = ((slow.received * 8) / (link.downMbps * 1e6)) * 1000;
  expect(slow.tti).toBeGreaterThan(transferMs + link.latencyMs);
  expect(gzip).toBeGreaterThan(0);
});
