// A shopper registers, logs out, logs in and sees their name, all in a hydrated page:
// the form submissions run client-side, without a full page load.
import { test, expect, Page } from '@playwright/test';

const PASSWORD = 'plum orchard lantern';

async function hydrated(page: Page) {
  await expect(page.locator('body[data-hydrated="true"]')).toBeAttached();
}

/** Marks the current document; the mark survives only if no full page load happens. */
async function markDocument(page: Page) {
  await page.evaluate(() => {
    (window as unknown as { __curioMark: string }).__curioMark = 'same-document';
  });
}

async function documentKept(page: Page): Promise<boolean> {
  return page.evaluate(
    () => (window as unknown as { __curioMark?: string }).__curioMark === 'same-document',
  );
}

test('register, log out, log in and see my name', async ({ page }) => {
  const email = `pat-${Date.now()}@example.com`;

  await page.goto('/register');
  await hydrated(page);
  await markDocument(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Display name').fill('Pat Shopper');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();

  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByTestId('current-user')).toHaveText('Pat Shopper');
  await expect(page.getByTestId('account-email')).toHaveText(email);
  expect(await documentKept(page), 'registering must not reload the page').toBe(true);

  const nav = page.getByRole('navigation', { name: 'Account' });
  await nav.getByRole('button', { name: 'Log out' }).click();
  await expect(nav.getByRole('link', { name: 'Log in' })).toBeVisible();
  await expect(page.getByTestId('current-user')).toHaveCount(0);
  // The account page notices at once that nobody is logged in.
  await expect(page.getByText('You are not logged in.')).toBeVisible();

  await nav.getByRole('link', { name: 'Log in' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();

  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByTestId('current-user')).toHaveText('Pat Shopper');
  expect(await documentKept(page), 'the whole flow ran client-side').toBe(true);

  // The session is server-side: a reload keeps the shopper logged in.
  await page.reload();
  await expect(page.getByTestId('current-user')).toHaveText('Pat Shopper');
});

test('a wrong password gets one generic message', async ({ page }) => {
  await page.goto('/login');
  await hydrated(page);
  await page.getByLabel('Email').fill(`nobody-${Date.now()}@example.com`);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByTestId('form-error')).toHaveText('Email or password is incorrect.');
  await expect(page).toHaveURL(/\/login$/);
});

test('a common password is refused with a clear message', async ({ page }) => {
  await page.goto('/register');
  await hydrated(page);
  await page.getByLabel('Email').fill(`common-${Date.now()}@example.com`);
  await page.getByLabel('Display name').fill('Common');
  await page.getByLabel('Password').fill('password123');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByTestId('form-error')).toContainText('most common passwords');
});
