/**
 * Small DOM helpers of the dashboard's browser code: element building (text only, never HTML
 * strings, so nothing a request holds can inject markup) and formatting.
 */

type Child = Node | string | number | null | undefined | false;

/** h makes an element with attributes (on* values are listeners) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, unknown> = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v as EventListener);
    else if (k === "className") el.className = String(v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

/** append adds children (strings become text). */
export function append(el: Element, children: (Child | Child[])[]): void {
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === "string" || typeof c === "number" ? String(c) : c);
  }
}

/** replace puts children in place of an element's content. */
export function replace(el: Element, ...children: (Child | Child[])[]): void {
  el.replaceChildren();
  append(el, children);
}

/**
 * keepFocus re-renders (fn) without losing the keyboard focus: an element with a data-key that
 * had the focus gives it to its replacement with the same key.
 */
export function keepFocus(fn: () => void): void {
  const key = document.activeElement?.getAttribute("data-key");
  fn();
  if (key) (document.querySelector(`[data-key="${CSS.escape(key)}"]`) as HTMLElement | null)?.focus();
}

/** age is how long ago an RFC 3339 time was, as kubectl shows it (42s, 5m, 3h, 2d). */
export function age(time: string | undefined, now = Date.now()): string {
  if (!time) return "–";
  const s = Math.max(0, Math.floor((now - Date.parse(time)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

/** duration shows seconds as 1.2s, 3m4s or 2h5m. */
export function duration(s: number | undefined): string {
  if (s === undefined) return "–";
  if (s < 60) return `${Number(s.toFixed(1))}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${Math.round(s % 60)}s`;
  return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
}

/** section is a titled region of a page, with an id to link to. */
export function section(id: string, title: string, ...children: (Child | Child[])[]): HTMLElement {
  return h(
    "section",
    { id, "aria-labelledby": `${id}-title`, className: "card" },
    h("h2", { id: `${id}-title` }, title),
    ...children,
  );
}

/** cssVar reads a colour of the current theme. */
export function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || "#888";
}
