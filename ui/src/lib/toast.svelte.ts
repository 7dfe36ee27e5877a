// Messages that wait for the user (WCAG 2.2.1): a toast stays until it is dismissed or its
// action is taken; only plain confirmations ("Copied") leave by themselves, after 4 s, and
// never while the pointer or focus is on them.

export interface Toast {
  id: number;
  text: string;
  /** An action button ("Undo", "View"). */
  action?: { label: string; run: () => void };
  /** Leaves by itself (a plain confirmation). */
  brief?: boolean;
  tone?: "ok" | "error" | "info";
}

let next = 1;
export const toasts: Toast[] = $state([]);

export function toast(t: Omit<Toast, "id">): number {
  const id = next++;
  toasts.push({ ...t, id });
  // At most three on screen: the oldest brief one goes first, then the oldest.
  while (toasts.length > 3) {
    const i = toasts.findIndex((x) => x.brief);
    toasts.splice(i >= 0 ? i : 0, 1);
  }
  return id;
}

export function dismiss(id: number): void {
  const i = toasts.findIndex((x) => x.id === id);
  if (i >= 0) toasts.splice(i, 1);
}

export const brief = (text: string) => toast({ text, brief: true, tone: "ok" });
