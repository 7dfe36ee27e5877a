// Mirrors of the wallet's serialised types (crates/wallet/src/model.rs, mingpian_card::Card).
// Only the fields the screens use are listed.

export interface Phone { value: string; kinds: string[]; pref?: boolean; label?: string | null }
export interface Email { value: string; kinds: string[]; pref?: boolean; label?: string | null }
export interface Url { value: string; kinds: string[]; label?: string | null }
export interface Address {
  po_box: string; extended: string; street: string; locality: string; region: string;
  postal_code: string; country: string; kinds: string[];
}
export type Media = { kind: "inline"; mime: string | null; data: string } | { kind: "uri"; uri: string };
export interface Card {
  formatted_name: string;
  org?: string | null;
  departments?: string[];
  title?: string | null;
  phones: Phone[];
  emails: Email[];
  addresses: Address[];
  urls: Url[];
  note?: string | null;
  photo?: Media | null;
  card_images?: Media[];
  [other: string]: unknown;
}
export interface Account { public_id: string; name: string; phone: string | null; email: string | null }
export interface SessionInfo { server: string; account: Account; device_id: number }
export interface MySet { set_no: number; card: Card; printed_fields: string[]; version: number; updated_at: number }
export interface CodeView { url: string; svg: string; printed: boolean; expires_at: number | null }
export interface Contact {
  id: string; name: string; section: string; org: string | null; title: string | null;
  phones: string[]; emails: string[]; tags: string[]; note: string; card_count: number;
  created_at: number; modified_at: number;
}
export interface StoredCard {
  id: string; contact_id: string; source: string; owner: string | null; set_no: number | null;
  version: number; full: boolean; linked_by: string; received_at: number; versions: number; card: Card;
}
export interface HistoryEvent { id: string; card_id: string | null; kind: string; code: string | null; place: string | null; at: number }
export interface ContactDetail extends Contact { cards: StoredCard[]; history: HistoryEvent[] }
export interface SearchResult { contacts: Contact[]; total: number }
export type Outcome = "added" | "linked" | "updated" | "unchanged";
export interface Received {
  outcome: Outcome; contact_id: string; contact_name: string; card_id: string;
  linked_by: string | null; card: Card;
}
export type ScanResult =
  | ({ status: "saved"; exchange_id: number | null; full: boolean } & Received)
  | { status: "pending"; key: string; scanned: string };
export interface ImportProblem { file: string; item: number; line: number; message: string }
export interface ImportReport {
  files: number; read: number; added: number; linked: number; updated: number; unchanged: number;
  errors: ImportProblem[]; warnings: ImportProblem[];
}
export interface Progress { done: number; total: number }
export interface SyncReport { pushed: number; overridden: number; pulled: number; card_updates: number; at: number }
export interface Device { id: number; name: string; created_at: number; last_seen_at: number; current: boolean }
export interface Settings { region: string; last_sync: number | null; default_server: string; locale: string | null }
export interface AppError { code: string; message: string }
export interface Exported { path: string; bytes: number }
export interface CardVersion { seq: number; version: number; received_at: number; card: Card }

/** A point in a photo, in its pixels. */
export type Point = [number, number];
/** Where the card is in a photo (corners clockwise from the top-left), as the device found it. */
export type FoundFrame = { corners: Point[] | null; width: number; height: number };
/** One side of a paper card to read: the photo and the four-corner frame the user left. */
export type PaperSide = { base64: string; corners: Point[] | null };
/** A draft card read from paper, and each side's picture straightened (JPEG, base64). */
export type PaperCard = { card: Card; pictures: string[] };
