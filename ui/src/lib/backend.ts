// The one interface the screens use to reach the wallet. Screens never call Tauri directly, so a
// test or a preview can hand them another implementation.

import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import { openUrl } from "@tauri-apps/plugin-opener";
import type {
  AppError, Card, CardVersion, CodeView, Contact, ContactDetail, Device, Exported, FoundFrame, ImportReport, MySet,
  PaperCard, PaperSide, Progress, Received, ScanResult, SearchResult, SessionInfo, Settings, SyncReport,
} from "./types";

export interface Backend {
  session(): Promise<SessionInfo | null>;
  settings(): Promise<Settings>;
  setRegion(region: string): Promise<void>;
  register(server: string, name: string, phone: string, email: string, password: string): Promise<SessionInfo>;
  login(server: string, login: string, password: string): Promise<SessionInfo>;
  logout(): Promise<void>;
  devices(): Promise<Device[]>;
  mySets(refresh: boolean): Promise<MySet[]>;
  /** The first card in a vCard file (for the editor's "import a .vcf"). */
  readCard(base64: string): Promise<Card>;
  /** A draft card from a photo of a paper card, read on the device. */
  /** Where the card is in a photo (read on the device). */
  findCardFrame(base64: string): Promise<FoundFrame>;
  readPaperCard(sides: PaperSide[]): Promise<PaperCard>;
  /** Saves a card typed in or read from paper into the wallet. */
  addCard(card: Card): Promise<Received>;
  saveSet(setNo: number | null, card: Card, printedFields: string[] | null): Promise<MySet>;
  code(setNo: number, printed: boolean): Promise<CodeView>;
  rotate(setNo: number): Promise<void>;
  scanText(text: string, giveSet: number): Promise<ScanResult>;
  scanImage(base64: string, giveSet: number): Promise<ScanResult>;
  contacts(): Promise<Contact[]>;
  search(query: string): Promise<SearchResult>;
  contact(id: string): Promise<ContactDetail>;
  cardVersions(cardId: string): Promise<CardVersion[]>;
  setNote(id: string, note: string): Promise<void>;
  setTags(id: string, tags: string[]): Promise<void>;
  deleteContact(id: string): Promise<void>;
  undeleteContact(id: string): Promise<void>;
  unlinkCard(cardId: string): Promise<string>;
  importFiles(files: { name: string; base64: string }[]): Promise<ImportReport>;
  exportWallet(format: "vcf3" | "vcf4" | "csv"): Promise<Exported>;
  sync(): Promise<SyncReport>;
  restore(): Promise<SyncReport>;
  pullInbox(): Promise<Received[]>;
  onCard(handler: (card: Received) => void): Promise<UnlistenFn>;
  onProgress(handler: (p: Progress) => void): Promise<UnlistenFn>;
  /** tel:, mailto:, map and web links, in the phone's own apps. */
  open(url: string): Promise<void>;
}

/** Errors from the shell arrive as `{code, message}`; anything else is wrapped the same way. */
export function asError(e: unknown): AppError {
  if (e && typeof e === "object" && "code" in e && "message" in e) return e as AppError;
  return { code: "internal", message: String(e) };
}

export const tauriBackend: Backend = {
  session: () => invoke("session"),
  settings: () => invoke("settings"),
  setRegion: (region) => invoke("set_region", { region }),
  register: (server, name, phone, email, password) =>
    invoke("register", { server, name, phone: phone || null, email: email || null, password }),
  login: (server, login, password) => invoke("login", { server, login, password }),
  logout: () => invoke("logout"),
  devices: () => invoke("devices"),
  mySets: (refresh) => invoke("my_sets", { refresh }),
  readCard: (base64) => invoke("read_card", { base64 }),
  findCardFrame: (base64) => invoke("find_card_frame", { base64 }),
  readPaperCard: (sides) => invoke("read_paper_card", { sides }),
  addCard: (card) => invoke("add_card", { card }),
  saveSet: (setNo, card, printedFields) => invoke("save_set", { setNo, card, printedFields }),
  code: (setNo, printed) => invoke("code", { setNo, printed }),
  rotate: (setNo) => invoke("rotate", { setNo }),
  scanText: (text, giveSet) => invoke("scan_text", { text, giveSet }),
  scanImage: (base64, giveSet) => invoke("scan_image", { base64, giveSet }),
  contacts: () => invoke("contacts"),
  search: (query) => invoke("search", { query }),
  contact: (id) => invoke("contact", { id }),
  cardVersions: (cardId) => invoke("card_versions", { cardId }),
  setNote: (id, note) => invoke("set_note", { id, note }),
  setTags: (id, tags) => invoke("set_tags", { id, tags }),
  deleteContact: (id) => invoke("delete_contact", { id }),
  undeleteContact: (id) => invoke("undelete_contact", { id }),
  unlinkCard: (cardId) => invoke("unlink_card", { cardId }),
  importFiles: (files) => invoke("import_files", { files }),
  exportWallet: (format) => invoke("export_wallet", { format }),
  sync: () => invoke("sync"),
  restore: () => invoke("restore"),
  pullInbox: () => invoke("pull_inbox"),
  onCard: (handler) => listen<Received>("card-received", (e) => handler(e.payload)),
  onProgress: (handler) => listen<Progress>("import-progress", (e) => handler(e.payload)),
  open: (url) => openUrl(url),
};

/** Reads a picked file as base64 (what the shell's import and scan-from-image take). */
export async function fileToBase64(file: File): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = "";
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  }
  return btoa(binary);
}
