/**
 * The dashboard's page and its bundled assets. The browser code (src/dashboard/web/) is bundled by
 * scripts/build-dashboard.ts into src/dashboard/generated/ (committed, checked for staleness by
 * `npm run check:generated`), so the image and a fresh clone serve it without a build step.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";

/** Asset is one file the dashboard serves. */
export interface Asset {
  body: Buffer;
  type: string;
  /** etag is a strong validator of the content. */
  etag: string;
}

const generated = new URL("./generated/", import.meta.url);

function asset(body: string | Buffer, type: string): Asset {
  const buf = Buffer.from(body);
  return { body: buf, type, etag: `"${createHash("sha256").update(buf).digest("base64url").slice(0, 22)}"` };
}

/** indexHtml is the page: every URL is relative, so it works under any prefix that ends in "/". */
export function indexHtml(js: Asset, css: Asset): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>hpo-operator dashboard</title>
<link rel="stylesheet" href="assets/app.css?v=${css.etag.slice(1, 9)}">
<link rel="icon" href="data:,">
<script type="module" src="assets/app.js?v=${js.etag.slice(1, 9)}"></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top"><a class="brand" href="#/">hpo-operator</a><nav id="crumbs" aria-label="Breadcrumb"></nav>
<button id="theme" type="button" aria-label="Switch between light and dark theme">Theme</button></header>
<main id="main" tabindex="-1"><p class="muted">Loading…</p></main>
<noscript>The dashboard needs JavaScript.</noscript>
</body>
</html>
`;
}

/** Assets are the page and the bundle. */
export interface Assets {
  index: Asset;
  js: Asset;
  css: Asset;
}

/** loadAssets reads the generated bundle; it throws an error that says how to make it when missing. */
export function loadAssets(): Assets {
  let js: Asset;
  let css: Asset;
  try {
    js = asset(readFileSync(new URL("app.js", generated)), "text/javascript; charset=utf-8");
    css = asset(readFileSync(new URL("app.css", generated)), "text/css; charset=utf-8");
  } catch (e) {
    throw new Error(
      `the dashboard's bundle is missing (${(e as Error).message}): run \`npm run generate\` to build it`,
    );
  }
  return { index: asset(indexHtml(js, css), "text/html; charset=utf-8"), js, css };
}
