// The user's choices that live on this device only.

function stored<T>(key: string, fallback: T): T {
  try {
    const raw = localStorage.getItem(key);
    return raw === null ? fallback : (JSON.parse(raw) as T);
  } catch {
    return fallback;
  }
}

export const prefs = $state({
  /** Exchange as soon as a code is scanned, without the "whose card" step (events). */
  autoExchange: stored("autoExchange", false),
  /** The card set given in an exchange (the one the code screen last showed). */
  giveSet: stored<number>("giveSet", 1),
});

$effect.root(() => {
  $effect(() => localStorage.setItem("autoExchange", JSON.stringify(prefs.autoExchange)));
  $effect(() => localStorage.setItem("giveSet", JSON.stringify(prefs.giveSet)));
});
