// Phone numbers as people write them where the user is (`138 0013 8000` in China,
// `+49 1512 3456789` for a German number), asked of the shell in batches and kept. Stored
// numbers stay as they are (E.164); this is only for showing them.

import type { Backend } from "./backend";

const shown: Record<string, string> = $state({});
const asked = new Set<string>();
let backend: Backend | null = null;
let pending: string[] = [];
let timer: ReturnType<typeof setTimeout> | undefined;

export function usePhoneFormatting(b: Backend): void {
  backend = b;
}

/** Forgets every formatted number (the user changed their region). */
export function resetPhoneFormatting(): void {
  asked.clear();
  for (const k of Object.keys(shown)) delete shown[k];
}

/** The number as shown here; the stored form until the shell has answered. */
export function phone(value: string): string {
  const known = shown[value];
  if (known !== undefined) return known;
  if (backend && !asked.has(value)) {
    asked.add(value);
    pending.push(value);
    clearTimeout(timer);
    timer = setTimeout(flush, 0);
  }
  return value;
}

async function flush() {
  const batch = pending;
  pending = [];
  if (!backend || batch.length === 0) return;
  try {
    const out = await backend.displayPhones(batch);
    batch.forEach((v, i) => (shown[v] = out[i] ?? v));
  } catch {
    for (const v of batch) asked.delete(v);
  }
}

/** Digits and `+` only: what `tel:` and `sms:` take. */
export function dialable(value: string): string {
  return value.replace(/[^\d+]/g, "");
}
