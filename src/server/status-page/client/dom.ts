/** The page's few DOM helpers. Text goes in as text nodes or textContent only: labels and names are data, never markup. */

/** An element with attributes (an empty value means "leave it out") and children (strings become text nodes). */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string>,
  ...children: Array<Node | string>
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const k in attrs) {
    const v = attrs[k];
    if (v !== undefined && v !== '') node.setAttribute(k, v);
  }
  node.append(...children);
  return node;
}

/** The element with this id, of this type; the markup is the server's, so a missing one is a bug worth a throw. */
export function byId<T extends HTMLElement>(id: string, type: new () => T): T {
  const node = document.getElementById(id);
  if (!(node instanceof type)) throw new Error('status page: #' + id + ' is missing or not a ' + type.name);
  return node;
}

/** Shows text, and keeps the unformatted value in data-value (tests compare values, not locales). */
export function setValue(node: HTMLElement, value: number | null | undefined, text: string): void {
  node.dataset.value = value === undefined || value === null ? '' : String(value);
  node.textContent = text;
}

/** A part of a card: its nodes, in order, and how it follows each poll. */
export interface Section<V> {
  nodes: Node[];
  update(view: V): void;
}
