/**
 * The real headless Chromium (Debian's `chromium` package, which .ci/run installs), driven by
 * playwright-core over the DevTools protocol: for the dashboard's browser tests, its benchmark and
 * the demo's screenshot. Nothing is downloaded: playwright-core only drives the browser it is given.
 */
import { existsSync } from "node:fs";
import { type Browser, chromium, type Page } from "playwright-core";

/** chromiumPath is the browser: CHROMIUM_PATH, else Debian's /usr/bin/chromium. */
export const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** launchChromium starts headless Chromium, or says how to install it. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(chromiumPath)) {
    throw new Error(
      `Chromium is not installed at ${chromiumPath}: install Debian's package (apt-get install -y chromium; .ci/run does) or set CHROMIUM_PATH`,
    );
  }
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
}

/**
 * drawAll scrolls each chart of a dashboard page into view (slice plots draw when seen) and waits
 * until every one is drawn, then scrolls back to the top: for a full-page screenshot.
 */
export async function drawAll(page: Page): Promise<void> {
  const charts = page.locator("canvas.chart");
  for (let i = 0; i < (await charts.count()); i++) {
    await charts.nth(i).scrollIntoViewIfNeeded();
    await page.locator("canvas.chart[data-drawn]").nth(i).waitFor({ state: "attached" });
  }
  await page.mouse.wheel(0, -1e6);
}

/** WatchedPage is a page and the console errors and uncaught exceptions it has had. */
export interface WatchedPage {
  page: Page;
  errors: string[];
}

/** openPage opens a page that records its console errors and page errors. */
export async function openPage(
  browser: Browser,
  options: {
    width?: number;
    height?: number;
    colorScheme?: "light" | "dark";
    /** Headers on every request (as a login proxy in front of the server adds them). */
    headers?: Record<string, string>;
    /** Trust a self-signed serving certificate. */
    ignoreHTTPSErrors?: boolean;
  } = {},
): Promise<WatchedPage> {
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1280, height: options.height ?? 900 },
    colorScheme: options.colorScheme ?? "light",
    extraHTTPHeaders: options.headers,
    ignoreHTTPSErrors: options.ignoreHTTPSErrors,
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => errors.push(`page error: ${e.message}`));
  page.on("requestfailed", (r) => {
    // An event stream closed by navigating away is not a failure of the page.
    if (!r.url().endsWith("/stream")) errors.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
  });
  return { page, errors };
}
