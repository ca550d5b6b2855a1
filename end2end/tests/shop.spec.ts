// A shopper finds a product despite a typo, narrows the results, rates and likes it, buys
// it (registering on the way, with the cart kept) and finds the order in their history;
// the database then holds each of those interactions with the right kind.
import { test, expect, Page } from '@playwright/test';
import { curio } from './cli';

async function hydrated(page: Page) {
  await expect(page.locator('body[data-hydrated="true"]')).toBeAttached();
}

test('search with a typo, filter, rate, like, buy, and see it recorded', async ({ page }) => {
  await page.goto('/');
  await hydrated(page);
  await expect(page.getByTestId('demo-label')).toContainText('Generated demo data');

  // A typo in the search box still finds cameras.
  await page.getByTestId('search-input').fill('camra');
  await page.getByTestId('search-input').press('Enter');
  await expect(page).toHaveURL(/\/search\?q=camra/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Results for “camra”');
  await expect(page.getByTestId('product-card').first()).toContainText(/camera/i);

  // Narrow down: department, then category, then a price band.
  await page.getByTestId('facet-category').getByRole('link', { name: /Electronics/ }).click();
  await expect(page).toHaveURL(/category=electronics/);
  await page.getByTestId('facet-category').getByRole('link', { name: /Cameras/ }).click();
  await expect(page).toHaveURL(/category=electronics-cameras/);
  const before = await page.getByTestId('result-count').textContent();
  const band = page.getByTestId('facet-price').getByRole('link').first();
  const bandLabel = (await band.locator('span').first().textContent()) ?? '';
  await band.click();
  await expect(page).toHaveURL(/price=\d+-\d*/);
  await expect(page.getByTestId('facet-price').locator('.selected')).toContainText(bandLabel);
  const after = await page.getByTestId('result-count').textContent();
  expect(parseInt(after ?? '0')).toBeLessThanOrEqual(parseInt(before ?? '0'));
  expect(parseInt(after ?? '0')).toBeGreaterThan(0);

  // Open the first result.
  const first = page.getByTestId('product-card').first();
  const title = (await first.locator('.product-title').textContent()) ?? '';
  await first.locator('a.product-link').click();
  await expect(page).toHaveURL(/\/p\/[^?]+\?from=search/);
  await expect(page.getByTestId('product-title')).toHaveText(title);

  // Rate and like: the buttons answer at once and stay that way after a reload.
  await page.getByTestId('rate-4').click();
  await expect(page.getByTestId('rate-4')).toHaveAttribute('aria-pressed', 'true');
  await page.getByTestId('like').click();
  await expect(page.getByTestId('like')).toHaveAttribute('aria-pressed', 'true');
  await page.getByTestId('add-to-cart').click();
  await expect(page.getByTestId('in-cart')).toHaveText('1 in your cart');
  await expect(page.getByTestId('cart-count')).toHaveText('1');
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId('rate-4')).toHaveAttribute('aria-pressed', 'true');
  await expect(page.getByTestId('like')).toHaveAttribute('aria-pressed', 'true');
  await expect(page.getByTestId('in-cart')).toHaveText('1 in your cart');

  // Checkout asks for an account; registering keeps the cart.
  await page.getByTestId('cart-link').click();
  await expect(page).toHaveURL(/\/cart$/);
  await expect(page.getByTestId('cart-line')).toHaveCount(1);
  await page.getByTestId('checkout').click();
  await expect(page.getByTestId('checkout-error')).toContainText('Log in or create an account');
  await page.getByTestId('checkout-error').getByRole('link', { name: 'Register' }).click();
  await expect(page).toHaveURL(/\/register\?next=\/cart/);
  const email = `buyer-${Date.now()}@example.com`;
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Display name').fill('Buyer');
  await page.getByLabel('Password').fill('plum orchard lantern');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/cart$/);
  await expect(page.getByTestId('cart-line')).toHaveCount(1);
  await expect(page.getByTestId('cart-line')).toContainText(title);

  await page.getByTestId('checkout').click();
  await expect(page).toHaveURL(/\/orders\?placed=\d+/);
  await expect(page.getByTestId('order-placed')).toBeVisible();
  await expect(page.getByTestId('order').first()).toContainText(title);
  await expect(page.getByTestId('cart-count')).toHaveCount(0);

  // The database has every step, on the new account's shopper.
  const me = await (await page.request.post('/api/me')).json();
  const exported = curio(['export', '--events']);
  const events = exported
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line))
    .filter((r) => r.user === `account-${me.id}`);
  const kinds = events.map((r) => r.kind);
  for (const kind of ['search', 'click', 'view', 'rating', 'like', 'add_to_cart', 'purchase']) {
    expect(kinds, `a ${kind} event`).toContain(kind);
  }
  expect(events.find((e) => e.kind === 'search').query).toBe('camra');
  expect(events.find((e) => e.kind === 'click').surface).toBe('search');
  expect(events.find((e) => e.kind === 'rating').value).toBe(4);
  expect(kinds.filter((k) => k === 'purchase')).toHaveLength(1);
});
