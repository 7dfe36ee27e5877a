// Small helpers over cards for the screens.

import type { Card, CardInput, Media } from "./backend";

export const TEMPLATES = ["classic", "modern", "ink"] as const;
export type Template = (typeof TEMPLATES)[number];

const TEMPLATE_PROP = "X-MINGPIAN-TEMPLATE";

export function templateOf(card: Card): Template {
  const v = card.extra.find((p) => p.name === TEMPLATE_PROP)?.value;
  return (TEMPLATES as readonly string[]).includes(v ?? "") ? (v as Template) : "classic";
}

export function withTemplate(card: Card, template: Template): Card {
  const extra = card.extra.filter((p) => p.name !== TEMPLATE_PROP);
  return { ...card, extra: [...extra, { group: null, name: TEMPLATE_PROP, params: [], value: template }] };
}

export function mediaUrl(m: Media | null | undefined): string | null {
  if (!m) return null;
  if (m.kind === "uri") return /^(https?:|data:image\/)/i.test(m.uri) ? m.uri : null;
  return `data:${m.mime ?? "image/jpeg"};base64,${m.data}`;
}

export function emptyCard(): Card {
  return {
    uid: null, revision: null, formatted_name: "", name: null, phonetic: null, nicknames: [], org: null,
    departments: [], title: null, role: null, phones: [], emails: [], addresses: [], urls: [], socials: [],
    note: null, birthday: null, categories: [], photo: null, logo: null, card_images: [], extra: [],
  };
}

/** A card with a name, mobile and email filled in (the first card, from the account). */
export function starterCard(name: string, phone: string | null | undefined, email: string | null | undefined): Card {
  const card = emptyCard();
  card.formatted_name = name;
  if (phone) card.phones.push({ value: phone, kinds: ["cell"], pref: true, label: null });
  if (email) card.emails.push({ value: email, kinds: ["work"], pref: false, label: null });
  return card;
}

/** The card as the shell takes it: blank entries dropped, text trimmed. */
export function cleanCard(c: Card): CardInput {
  const trim = (s: string | null) => (s ?? "").trim() || null;
  return {
    ...c,
    formatted_name: c.formatted_name.trim(),
    org: trim(c.org),
    title: trim(c.title),
    note: trim(c.note),
    departments: c.departments.map((d) => d.trim()).filter(Boolean),
    phones: c.phones.map((p) => ({ ...p, value: p.value.trim() })).filter((p) => p.value),
    emails: c.emails.map((e) => ({ ...e, value: e.value.trim() })).filter((e) => e.value),
    urls: c.urls.map((u) => ({ ...u, value: u.value.trim() })).filter((u) => u.value),
    socials: c.socials.map((s) => ({ ...s, value: s.value.trim() })).filter((s) => s.value),
    addresses: c.addresses.filter((a) => [a.street, a.locality, a.region, a.postal_code, a.country].some((x) => x.trim())),
  };
}

/** One line of an address, as people write it where its country is. */
export function addressLine(a: Card["addresses"][number]): string {
  const chinese = /[\u3400-\u9fff]/.test(a.street + a.locality + a.region);
  const parts = chinese
    ? [a.country, a.region, a.locality, a.street, a.extended]
    : [a.extended, a.street, a.locality, a.region, a.postal_code, a.country];
  return parts.map((p) => p.trim()).filter(Boolean).join(chinese ? "" : ", ");
}

export function initials(name: string): string {
  const n = name.trim();
  if (!n) return "?";
  if (/[\u3400-\u9fff]/.test(n)) return n.length > 2 ? n.slice(-2) : n;
  return n.split(/\s+/).map((w) => w[0] ?? "").join("").slice(0, 2).toUpperCase();
}

/** The card's main mobile number, else its first. */
export function mainPhone(card: Card): string | undefined {
  return (card.phones.find((p) => p.kinds.includes("cell")) ?? card.phones[0])?.value;
}
