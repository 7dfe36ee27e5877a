// Small helpers over cards for the screens.

import type { Card, Media } from "./types";

export const TEMPLATES = ["classic", "modern", "ink"] as const;
export type Template = (typeof TEMPLATES)[number];

const TEMPLATE_PROP = "X-MINGPIAN-TEMPLATE";

export function templateOf(card: Card): Template {
  const extra = (card.extra as { name: string; value: string }[] | undefined) ?? [];
  const v = extra.find((p) => p.name === TEMPLATE_PROP)?.value;
  return (TEMPLATES as readonly string[]).includes(v ?? "") ? (v as Template) : "classic";
}

export function withTemplate(card: Card, template: Template): Card {
  const extra = ((card.extra as { name: string }[] | undefined) ?? []).filter((p) => p.name !== TEMPLATE_PROP);
  return { ...card, extra: [...extra, { group: null, name: TEMPLATE_PROP, params: [], value: template }] };
}

export function mediaUrl(m: Media | null | undefined): string | null {
  if (!m) return null;
  if (m.kind === "uri") return m.uri;
  return `data:${m.mime ?? "image/jpeg"};base64,${m.data}`;
}

export function emptyCard(): Card {
  return { formatted_name: "", phones: [], emails: [], addresses: [], urls: [] };
}

/** The fields the editor shows, flattened. */
export interface Draft {
  name: string; org: string; dept: string; title: string; mobile: string; office: string;
  email: string; url: string; address: string; wechat: string; note: string;
}

export function toDraft(c: Card): Draft {
  const phone = (kind: string) => c.phones.find((p) => p.kinds.includes(kind))?.value ?? "";
  const socials = (c.socials as { service: string; value: string }[] | undefined) ?? [];
  return {
    name: c.formatted_name ?? "",
    org: c.org ?? "",
    dept: c.departments?.[0] ?? "",
    title: c.title ?? "",
    mobile: phone("cell") || (c.phones.find((p) => !p.kinds.includes("work"))?.value ?? ""),
    office: phone("work"),
    email: c.emails[0]?.value ?? "",
    url: c.urls[0]?.value ?? "",
    address: c.addresses[0]?.street ?? "",
    wechat: socials.find((s) => s.service === "wechat")?.value ?? "",
    note: c.note ?? "",
  };
}

/** Writes the editor's fields back over a card, keeping everything the editor does not show. */
export function fromDraft(base: Card, d: Draft): Card {
  const phones = [];
  if (d.mobile.trim()) phones.push({ value: d.mobile.trim(), kinds: ["cell"], pref: true, label: null });
  if (d.office.trim()) phones.push({ value: d.office.trim(), kinds: ["work"], pref: false, label: null });
  const otherPhones = base.phones.filter((p) => !p.kinds.includes("cell") && !p.kinds.includes("work"));
  const socials = ((base.socials as { service: string }[] | undefined) ?? []).filter((s) => s.service !== "wechat");
  if (d.wechat.trim()) socials.push({ service: "wechat", value: d.wechat.trim(), im: false, label: null } as never);
  const address = base.addresses[0];
  return {
    ...base,
    formatted_name: d.name.trim(),
    name: null,
    org: d.org.trim() || null,
    departments: d.dept.trim() ? [d.dept.trim()] : [],
    title: d.title.trim() || null,
    phones: [...phones, ...otherPhones],
    emails: d.email.trim() ? [{ value: d.email.trim(), kinds: ["work"], pref: false, label: null }, ...base.emails.slice(1)] : base.emails.slice(1),
    urls: d.url.trim() ? [{ value: d.url.trim(), kinds: [], label: null }, ...base.urls.slice(1)] : base.urls.slice(1),
    addresses: d.address.trim()
      ? [{ ...(address ?? { po_box: "", extended: "", locality: "", region: "", postal_code: "", country: "", kinds: ["work"] }), street: d.address.trim() }, ...base.addresses.slice(1)]
      : base.addresses.slice(1),
    socials,
    note: d.note.trim() || null,
  };
}

export function initials(name: string): string {
  const n = name.trim();
  if (!n) return "?";
  if (/[\u3400-\u9fff]/.test(n)) return n.length > 2 ? n.slice(-2) : n;
  return n.split(/\s+/).map((w) => w[0] ?? "").join("").slice(0, 2).toUpperCase();
}
