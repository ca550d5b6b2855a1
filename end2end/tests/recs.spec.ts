// Recommendation rows in the browser: a new shopper picks two departments and "for you"
// follows them; a like reshapes the row within a second, without a page load, with a
// reason naming the liked product; a dislike takes the item out; stars on a card are
// saved; "Why these?" shows each model's picks, the taste and the history, where an item
// can be removed; a save that cannot reach the server says so and puts the button back.
import { test, expect, Page, Locator } from '@playwright/test';

async function hydrated(page: Page) {
  await expect(page.locator('body[data-hydrated="true"]')).toBeAttached();
}

async function departmentsOf(row: Locator): Promise<string[]> {
  return row
    .getByTestId('rec-card')
    .evaluateAll((cards) => cards.map((c) => (c.getAttribute('data-category') ?? '').split(' > ')[0]));
}

async function productIds(row: Locator): Promise<string[]> {
  return row.getByTestId('rec-card').evaluateAll((cards) => cards.map((c) => c.getAttribute('data-product-id') ?? ''));
}

test('onboarding, a like and a dislike reshape "for you" at once', async ({ page }) => {
  await page.goto('/');
  await hydrated(page);
  const forYou = page.getByTestId('recs-for_you');
  // A shopper with no history sees the best sellers of every department, and a picker.
  await expect(forYou).toHaveAttribute('data-surface', 'onboarding_picks');
  const spread = new Set(await departmentsOf(forYou));
  expect(spread.size).toBeGreaterThanOrEqual(4);

  const chips = forYou.getByTestId('onboarding-department');
  const picked = [(await chips.nth(1).textContent())!.trim(), (await chips.nth(3).textContent())!.trim()];
  await chips.nth(1).click();
  await chips.nth(3).click();
  await expect(chips.nth(1)).toHaveAttribute('aria-pressed', 'true');
  await forYou.getByTestId('onboarding-submit').click();
  await expect(forYou).toHaveAttribute('data-surface', 'for_you');
  const departments = await departmentsOf(forYou);
  const matching = departments.filter((d) => picked.includes(d)).length;
  console.log(`onboarding: picked ${picked.join(' + ')}; "for you" now ${departments.join(', ')}`);
  expect(departments.length).toBeGreaterThanOrEqual(6);
  expect(matching).toBeGreaterThanOrEqual(Math.ceil(departments.length * 0.75));

  // Like the third card: the row changes in place (no navigation: the marker survives),
  // within a second, and says why.
  await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
  const card = forYou.getByTestId('rec-card').nth(2);
  const title = (await card.locator('.product-title').textContent())!.trim();
  const before = await productIds(forYou);
  const clicked = Date.now();
  // (The card itself is replaced when the row refetches: the liked product is not
  // recommended back.)
  await card.getByTestId('rec-like').click();
  await expect(forYou.getByTestId('rec-reason').filter({ hasText: `Because you liked ${title}` }).first()).toBeVisible({
    timeout: 1_000,
  });
  console.log(`like reflected in ${Date.now() - clicked} ms`);
  expect(await productIds(forYou)).not.toEqual(before);
  expect(await page.evaluate(() => (window as unknown as { marker: number }).marker)).toBe(42);

  // Dislike: the card goes at once and does not come back with the new row.
  const gone = forYou.getByTestId('rec-card').first();
  const goneId = (await gone.getAttribute('data-product-id'))!;
  await gone.getByTestId('rec-dislike').click();
  await expect(forYou.locator(`[data-product-id="${goneId}"]`)).toBeHidden();
  await expect(forYou.locator(`[data-product-id="${goneId}"]`)).toHaveCount(0);
  await expect(forYou.getByTestId('rec-card').first()).toBeVisible();

  // "Not interested" (the card's close button): hidden the same way, but no dislike.
  const hidden = forYou.getByTestId('rec-card').first();
  const hiddenId = (await hidden.getAttribute('data-product-id'))!;
  expect(hiddenId).not.toEqual(goneId);
  await hidden.getByTestId('rec-hide').click();
  await expect(forYou.locator(`[data-product-id="${hiddenId}"]`)).toHaveCount(0);
  await expect(forYou.getByTestId('rec-card').first()).toBeVisible();

  // After a reload the server still has all three: the like, the dislike and the hide.
  await page.reload();
  await hydrated(page);
  await expect(forYou.getByTestId('rec-card').first()).toBeVisible();
  const afterReload = await productIds(forYou);
  expect(afterReload).not.toContain(goneId);
  expect(afterReload).not.toContain(hiddenId);
  await expect(page.getByTestId('recs-because_you_liked').locator('h2')).toContainText(title);

  // Stars on a card: five for the first one, which then leaves "for you" (seen).
  const rated = forYou.getByTestId('rec-card').first();
  const ratedId = (await rated.getAttribute('data-product-id'))!;
  const ratedTitle = (await rated.locator('.product-title').textContent())!.trim();
  await rated.getByTestId('rec-rate-5').click();
  await expect(forYou.locator(`[data-product-id="${ratedId}"]`)).toHaveCount(0);

  // "Why these?": every model's picks side by side, the taste, and the history, where
  // the like can be removed.
  await forYou.getByTestId('why-link').click();
  await expect(page).toHaveURL(/\/why$/);
  await hydrated(page);
  const columns = page.getByTestId('model-column');
  await expect(columns.first()).toBeVisible();
  expect(await columns.count()).toBeGreaterThanOrEqual(4);
  // Item-kNN explains its first pick by one of the two things the shopper did.
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  await expect(page.getByTestId('model-column').filter({ hasText: 'Item-kNN' }).locator('.rec-reason').first()).toContainText(
    new RegExp(`Because you (liked ${escape(title)}|rated ${escape(ratedTitle)})`),
  );
  await expect(page.getByTestId('taste-categories').locator('li').first()).toBeVisible();
  await expect(page.getByTestId('history-item').filter({ hasText: ratedTitle })).toContainText('rated');
  const liked = page.getByTestId('history-item').filter({ hasText: title });
  await expect(liked).toContainText('liked');
  await liked.getByTestId('history-remove').click();
  await expect(page.getByTestId('history-item').filter({ hasText: title })).toHaveCount(0);
  // The rating stays.
  await expect(page.getByTestId('history-item').filter({ hasText: ratedTitle })).toContainText('rated');
});

test('a like that cannot be saved is retried, then shown as not saved', async ({ page }) => {
  await page.goto('/');
  await hydrated(page);
  const forYou = page.getByTestId('recs-for_you');
  const card = forYou.getByTestId('rec-card').first();
  await expect(card).toBeVisible();
  let attempts = 0;
  await page.route('**/api/shop/feedback', (route) => {
    attempts += 1;
    return route.abort('connectionreset');
  });
  await card.getByTestId('rec-like').click();
  await expect(forYou.getByTestId('rec-message')).toContainText('was not saved');
  await expect(card.getByTestId('rec-like')).toHaveAttribute('aria-pressed', 'false');
  expect(attempts).toBe(3);
});

test('the keyboard reaches and presses a card\'s Like, with a visible focus ring', async ({ page }) => {
  await page.goto('/');
  await hydrated(page);
  const forYou = page.getByTestId('recs-for_you');
  await expect(forYou.getByTestId('rec-card').first()).toBeVisible();
  // Tab from the top of the page until the focus lands on a Like button in "for you".
  let presses = 0;
  for (; presses < 120; presses++) {
    await page.keyboard.press('Tab');
    const onLike = await page.evaluate(
      () => document.activeElement?.getAttribute('data-testid') === 'rec-like' &&
        !!document.activeElement.closest('[data-testid="recs-for_you"]'),
    );
    if (onLike) break;
  }
  expect(presses, 'Tab reaches a Like button').toBeLessThan(120);
  const focused = page.locator(':focus');
  const label = (await focused.getAttribute('aria-label'))!;
  expect(label).toMatch(/^Like /);
  const outline = await focused.evaluate((el) => getComputedStyle(el).outlineStyle);
  expect(outline).not.toBe('none');
  console.log(`keyboard: ${presses + 1} Tab presses to "${label}"`);
  await page.keyboard.press('Enter');
  await expect(forYou.getByTestId('rec-reason').filter({ hasText: 'Because you liked' }).first()).toBeVisible();
});
