// The merchant's insights: nobody logged in gets a 401 and a shopper a 403 (page and
// server function alike); an admin made with `curio admin create` sees the charts, with
// non-zero live counts after a shopper's clicks, and the shopper's click in the event
// stream. Screenshots at desktop and phone width go to end2end/artifacts/screenshots.
import { test, expect, Page } from '@playwright/test';
import { curio } from './cli';
import * as path from 'node:path';

const out = path.resolve(__dirname, '../artifacts/screenshots');
const PASSWORD = 'insightful walrus 42';

async function hydrated(page: Page) {
  await expect(page.locator('body[data-hydrated="true"]')).toBeAttached();
}

async function register(page: Page, email: string, name: string) {
  await page.goto('/register');
  await hydrated(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Display name').fill(name);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByTestId('current-user')).toHaveText(name);
}

test('insights are for admins only and show live counts after a shopper clicks', async ({ browser, page }) => {
  // Nobody logged in: 401, and the page says how to get in.
  const anonymous = await page.goto('/admin/insights');
  expect(anonymous!.status()).toBe(401);
  await expect(page.getByTestId('insights-refused')).toContainText('Log in');

  // A shopper: 403 for the page and for the server function behind it.
  const stamp = Date.now();
  await register(page, `shopper-${stamp}@example.com`, 'Sam Shopper');
  await expect(page.getByTestId('insights-link')).toHaveCount(0);
  const refused = await page.goto('/admin/insights');
  expect(refused!.status()).toBe(403);
  await expect(page.getByTestId('insights-refused')).toContainText('403');
  const api = await page.request.post('/api/admin/insights', { data: { window: 'hour', surface: null } });
  expect(api.status()).toBe(403);

  // The shopper opens a recommended product and adds another to the cart from a row.
  await page.goto('/');
  await hydrated(page);
  const forYou = page.getByTestId('recs-for_you');
  await expect(forYou.getByTestId('rec-card').first()).toBeVisible();
  // (The rows refetch once the cart changes, so the card itself may be replaced: the
  // header's cart count says the add was saved.)
  await forYou.getByTestId('rec-card').nth(1).getByTestId('rec-add').click();
  await expect(page.getByTestId('cart-count')).toHaveText('1');
  const opened = (await forYou.getByTestId('rec-card').first().locator('.product-title').textContent())!.trim();
  await forYou.getByTestId('rec-card').first().locator('a.product-link').click();
  await hydrated(page);
  await expect(page.getByTestId('product-title')).toHaveText(opened);

  // The merchant's account, made on the command line (password on stdin).
  const adminEmail = `merchant-${stamp}@example.com`;
  const created = curio(['admin', 'create', '--email', adminEmail, '--name', 'Mia Merchant'], `${PASSWORD}\n`);
  expect(created).toContain(`created admin account ${adminEmail}`);

  const context = await browser.newContext();
  const admin = await context.newPage();
  await admin.goto('/login');
  await hydrated(admin);
  await admin.getByLabel('Email').fill(adminEmail);
  await admin.getByLabel('Password').fill(PASSWORD);
  await admin.getByRole('button', { name: 'Log in' }).click();
  await expect(admin.getByTestId('current-user')).toHaveText('Mia Merchant');
  await admin.getByTestId('insights-link').click();
  await expect(admin).toHaveURL(/\/admin\/insights$/);

  const impressions = Number(await admin.getByTestId('kpi-impressions').textContent());
  const clicks = Number(await admin.getByTestId('kpi-clicks').textContent());
  console.log(`insights: ${impressions} lists served, ${clicks} clicks in the last hour`);
  expect(impressions).toBeGreaterThan(0);
  expect(clicks).toBeGreaterThan(0);
  await expect(admin.getByTestId('kpi-cart')).not.toHaveText('-');
  expect(await admin.getByTestId('kpi-cart').textContent()).not.toBe('0.0%');

  // Real charts: SVG with lines and labelled axes.
  for (const id of ['live-impressions', 'live-ctr', 'live-cart', 'live-purchase', 'offline-ndcg', 'coverage-models']) {
    const chart = admin.getByTestId(`chart-${id}`);
    await expect(chart.locator('svg')).toBeVisible();
  }
  await expect(admin.getByTestId('chart-live-impressions').locator('svg polyline').first()).toBeAttached();
  await expect(admin.getByTestId('chart-live-ctr').locator('svg text', { hasText: 'clicks per list' })).toBeAttached();
  await expect(admin.getByTestId('chart-bandit-split').locator('svg')).toBeVisible();
  await expect(admin.getByTestId('strategy-table').locator('tbody tr').first()).toBeVisible();
  await expect(admin.getByTestId('versions-table').locator('tbody tr').first()).toBeVisible();

  // The stream has the shopper's click on the product they opened.
  const stream = admin.getByTestId('events');
  await expect(stream.locator('tr[data-kind="click"]', { hasText: opened }).first()).toBeVisible();

  // Split by one surface's variants.
  await admin.getByRole('navigation', { name: 'Split the charts by' }).getByRole('link', { name: 'for_you', exact: true }).click();
  await expect(admin).toHaveURL(/surface=for_you/);
  await expect(admin.getByText('lines are one per variant')).toBeVisible();

  for (const [name, size] of [
    ['desktop', { width: 1280, height: 900 }],
    ['phone', { width: 390, height: 844 }],
  ] as const) {
    await admin.setViewportSize(size);
    await admin.goto('/admin/insights');
    await hydrated(admin);
    await expect(admin.getByTestId('chart-live-impressions').locator('svg')).toBeVisible();
    await admin.screenshot({ path: `${out}/insights-${name}.jpg`, fullPage: true, type: 'jpeg', quality: 70 });
    expect(await admin.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(size.width);
  }
  await context.close();
});
