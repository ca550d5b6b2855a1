// Screenshots of the home page, a product page and the "Why these picks?" dashboard at
// desktop and phone widths, into end2end/artifacts/screenshots (the README shows copies
// from end2end/screenshots). Each is also checked to fit its width (no
// sideways scrolling of the page itself).
import { test, expect, Page } from '@playwright/test';
import * as path from 'node:path';

const out = path.resolve(__dirname, '../artifacts/screenshots');

async function hydrated(page: Page) {
  await expect(page.locator('body[data-hydrated="true"]')).toBeAttached();
}

for (const [name, size] of [
  ['desktop', { width: 1280, height: 900 }],
  ['phone', { width: 390, height: 844 }],
] as const) {
  test(`screenshots at ${name} width`, async ({ page }) => {
    await page.setViewportSize(size);
    await page.goto('/');
    await hydrated(page);
    const forYou = page.getByTestId('recs-for_you');
    await expect(forYou.getByTestId('rec-card').first()).toBeVisible();
    // A shopper with a little history: two likes from "for you".
    for (const n of [0, 1]) {
      await forYou.getByTestId('rec-card').nth(n).getByTestId('rec-like').click();
      await expect(forYou.getByTestId('rec-reason').filter({ hasText: 'Because you liked' }).first()).toBeVisible();
    }
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: `${out}/home-${name}.jpg`, fullPage: true, type: 'jpeg', quality: 70 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(size.width);

    await forYou.getByTestId('rec-card').first().locator('a.product-link').click();
    await hydrated(page);
    await expect(page.getByTestId('product-title')).toBeVisible();
    await expect(page.getByTestId('recs-similar').getByTestId('rec-card').first()).toBeVisible();
    await page.screenshot({ path: `${out}/product-${name}.jpg`, fullPage: true, type: 'jpeg', quality: 70 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(size.width);

    await page.goto('/why');
    await hydrated(page);
    await expect(page.getByTestId('model-column').first()).toBeVisible();
    await page.screenshot({ path: `${out}/why-${name}.jpg`, fullPage: true, type: 'jpeg', quality: 70 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(size.width);
  });
}
