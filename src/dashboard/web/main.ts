/**
 * The dashboard's browser entry point (bundled by scripts/build-dashboard.ts): hash routes
 * (#/ the requests, #/r/NS/NAME one request), the breadcrumb, and the light/dark theme switch.
 */
import { ApiError, type Stream } from "./api.ts";
import { h, replace } from "./dom.ts";
import { showList } from "./list.ts";
import { showRequest } from "./request.ts";

const main = document.getElementById("main") as HTMLElement;
const crumbs = document.getElementById("crumbs") as HTMLElement;
let current: Stream | undefined;
let routeId = 0;

/** route shows the page of the current hash. */
async function route(navigated = false): Promise<void> {
  const hash = location.hash;
  // In-page section links (#history) belong to the request page: leave it as it is.
  if (hash && !hash.startsWith("#/")) return;
  const id = ++routeId;
  current?.close();
  current = undefined;
  delete document.body.dataset.painted;
  delete document.body.dataset.complete;
  const m = /^#\/r\/([^/]+)\/([^/]+)$/.exec(hash);
  try {
    if (m) {
      const ns = decodeURIComponent(m[1] as string);
      const name = decodeURIComponent(m[2] as string);
      document.title = `${name} · hpo-operator`;
      replace(crumbs, h("a", { href: "#/" }, "Requests"), " / ", `${ns} / ${name}`);
      replace(main, h("p", { className: "muted" }, `Loading ${name}…`));
      const s = await showRequest(main, ns, name);
      if (id === routeId) current = s;
      else s.close();
    } else {
      document.title = "Requests · hpo-operator";
      replace(crumbs, "Requests");
      const s = await showList(main);
      if (id === routeId) current = s;
      else s.close();
    }
  } catch (e) {
    if (id !== routeId) return;
    const message = e instanceof ApiError ? e.message : `the dashboard failed: ${(e as Error).message}`;
    replace(
      main,
      h(
        "div",
        { className: "card error", role: "alert" },
        h("h1", {}, "Cannot show this page"),
        h("p", {}, message),
      ),
    );
  }
  // After a navigation, the focus moves to the new page's content (as a page load would put it at the top).
  if (navigated) main.focus({ preventScroll: true });
}

/** theme applies and remembers the light or dark theme (default: the system's). */
function setupTheme(): void {
  const button = document.getElementById("theme") as HTMLButtonElement;
  const stored = localStorage.getItem("hpo-theme");
  const system = matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  const apply = (t: string) => {
    document.documentElement.dataset.theme = t;
    button.textContent = t === "dark" ? "Light theme" : "Dark theme";
    button.setAttribute("aria-pressed", String(t === "dark"));
  };
  apply(stored ?? system);
  button.addEventListener("click", () => {
    const next = document.documentElement.dataset.theme === "dark" ? "light" : "dark";
    localStorage.setItem("hpo-theme", next);
    apply(next);
    void route(); // charts take their colours from the theme
  });
}

setupTheme();
window.addEventListener("hashchange", () => void route(true));
void route();
