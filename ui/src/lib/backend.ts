// The one interface the screens use to reach the shell. Screens never call Tauri directly, so a
// test or a preview can hand them another implementation. Every type here is generated from the
// Rust code (`bindings.ts`, by tauri-specta): nothing is written twice.

import type { UnlistenFn } from "@tauri-apps/api/event";
import { openUrl } from "@tauri-apps/plugin-opener";
import {
  commands,
  events,
  type Account_Serialize,
  type Card_Deserialize,
  type Card_Serialize,
  type CardField_Serialize,
  type CardVersion_Serialize,
  type CodeView_Serialize,
  type Contact_Serialize,
  type ContactDetail_Serialize,
  type ContactEdit_Deserialize,
  type CardDavAccess,
  type Device,
  type NewAppPassword,
  type ErrorBody_Serialize,
  type ErrorCode_Serialize,
  type EventKind_Serialize,
  type ExportFormat,
  type Exported,
  type PictureUse,
  type Platform,
  type ShareItem,
  type FoundFrame_Serialize,
  type ImportReport,
  type LinkedBy_Serialize,
  type Media_Serialize,
  type MySet_Serialize,
  type PaperCard_Serialize,
  type PaperSide_Deserialize,
  type Preview_Serialize,
  type Progress,
  type Received_Serialize,
  type ScanResult_Serialize,
  type SearchResult_Serialize,
  type SessionInfo_Serialize,
  type Settings_Serialize,
  type ShownBy_Serialize,
  type Source_Serialize,
  type StoredCard_Serialize,
  type SyncReport,
} from "./bindings";

export type Account = Account_Serialize;
export type Card = Card_Serialize;
export type CardInput = Card_Deserialize;
export type CardField = CardField_Serialize;
export type CardVersion = CardVersion_Serialize;
export type CodeView = CodeView_Serialize;
export type Contact = Contact_Serialize;
export type ContactDetail = ContactDetail_Serialize;
export type ContactEdit = ContactEdit_Deserialize;
export type AppError = ErrorBody_Serialize;
export type ErrorCode = ErrorCode_Serialize;
export type EventKind = EventKind_Serialize;
export type FoundFrame = FoundFrame_Serialize;
export type LinkedBy = LinkedBy_Serialize;
export type Media = Media_Serialize;
export type MySet = MySet_Serialize;
export type PaperCard = PaperCard_Serialize;
export type PaperSide = PaperSide_Deserialize;
export type Preview = Preview_Serialize;
export type Received = Received_Serialize;
export type ScanResult = ScanResult_Serialize;
export type SearchResult = SearchResult_Serialize;
export type SessionInfo = SessionInfo_Serialize;
export type Settings = Settings_Serialize;
export type ShownBy = ShownBy_Serialize;
export type Source = Source_Serialize;
export type StoredCard = StoredCard_Serialize;
export type { CardDavAccess, Device, NewAppPassword, ExportFormat, Exported, ImportReport, PictureUse, Platform, Progress, ShareItem, SyncReport };
export type { AppPassword, PickedFile } from "./bindings";
import type { PickedFile } from "./bindings";

/** A point in a photo, in its pixels (a UI value, not the shell's). */
export type Point = [number, number];
/** A card's four corners: top-left, top-right, bottom-right, bottom-left. */
export type Quad = [Point, Point, Point, Point];

export interface Backend {
  session(): Promise<SessionInfo | null>;
  settings(): Promise<Settings>;
  setRegion(region: string): Promise<void>;
  register(server: string, name: string, phone: string, email: string, password: string): Promise<SessionInfo>;
  login(server: string, login: string, password: string): Promise<SessionInfo>;
  logout(): Promise<void>;
  devices(): Promise<Device[]>;
  /** The wallet as the phone's address book (CardDAV): its address and app passwords. */
  carddav(): Promise<CardDavAccess>;
  newAppPassword(label: string): Promise<NewAppPassword>;
  revokeAppPassword(id: number): Promise<void>;
  mySets(refresh: boolean): Promise<MySet[]>;
  /** Where the card is in a photo (read on the device). */
  findCardFrame(base64: string): Promise<FoundFrame>;
  readPaperCard(sides: PaperSide[]): Promise<PaperCard>;
  /** Saves a card typed in or read from paper into the wallet. */
  addCard(card: CardInput): Promise<Received>;
  saveSet(setNo: number | null, card: CardInput, printedFields: CardField[] | null): Promise<MySet>;
  code(setNo: number, printed: boolean): Promise<CodeView>;
  rotate(setNo: number): Promise<void>;
  /** Whose card a scanned text leads to, exchanging nothing. */
  preview(text: string): Promise<Preview>;
  /** Exchange (giving `giveSet`), or with `null` only save their card. */
  scanText(text: string, giveSet: number | null): Promise<ScanResult>;
  /** The text of the card code in a picture. */
  decodeImage(base64: string): Promise<string>;
  contacts(): Promise<Contact[]>;
  search(query: string): Promise<SearchResult>;
  contact(id: string): Promise<ContactDetail>;
  cardVersions(cardId: string): Promise<CardVersion[]>;
  setNote(id: string, note: string): Promise<void>;
  setTags(id: string, tags: string[]): Promise<void>;
  editContact(id: string, edit: ContactEdit): Promise<void>;
  setPrimaryCard(id: string, cardId: string | null): Promise<void>;
  acceptCard(cardId: string): Promise<void>;
  deleteContact(id: string): Promise<void>;
  undeleteContact(id: string): Promise<void>;
  unlinkCard(cardId: string): Promise<string>;
  /** Pictures through the system's picker (empty: cancelled). */
  pickPictures(purpose: PictureUse): Promise<PickedFile[]>;
  /** The first card of a vCard file the user picks (`null`: cancelled). */
  pickCard(): Promise<Card | null>;
  /** Imports files the user picks (`null`: cancelled); progress comes through `onProgress`. */
  importPicked(): Promise<ImportReport | null>;
  /** Exports every card where the user chooses (`null`: cancelled). */
  exportPicked(format: ExportFormat, fileName: string): Promise<Exported | null>;
  /** Saves one contact as a .vcf where the user chooses (`null`: cancelled). */
  saveContact(id: string): Promise<Exported | null>;
  /** Saves a PNG the UI drew where the user chooses (`null`: cancelled). */
  savePicture(fileName: string, base64: string): Promise<Exported | null>;
  /** The system share sheet (phones). */
  share(item: ShareItem): Promise<void>;
  /** The code fills the screen: keep it awake and bright (phones), full-screen window (desktop). */
  presentCode(on: boolean): Promise<void>;
  /** Numbers the way people write them where the user is (`138 0013 8000`, `+49 151 …`). */
  displayPhones(values: string[]): Promise<string[]>;
  sync(): Promise<SyncReport>;
  restore(): Promise<SyncReport>;
  pullInbox(): Promise<Received[]>;
  /** The card link the app was opened with, if any (once). */
  openedLink(): Promise<string | null>;
  onCard(handler: (card: Received) => void): Promise<UnlistenFn>;
  onProgress(handler: (p: Progress) => void): Promise<UnlistenFn>;
  onLink(handler: (url: string) => void): Promise<UnlistenFn>;
  /** tel:, sms:, mailto:, geo:, map and web links, in the phone's own apps. */
  open(url: string): Promise<void>;
}

/** Errors arrive as `{code, message}`; anything else (a JavaScript failure) is wrapped so. */
export function asError(e: unknown): AppError {
  if (e && typeof e === "object" && "code" in e && "message" in e) return e as AppError;
  return { code: "internal", message: String(e) };
}

type Result<T> = { status: "ok"; data: T } | { status: "error"; error: AppError };

/** The generated commands answer `{status, data | error}`; screens get the data or an error. */
async function ok<T>(result: Promise<Result<T>>): Promise<T> {
  const r = await result;
  if (r.status === "error") throw r.error;
  return r.data;
}

/** A command that answers nothing. */
async function done(result: Promise<Result<null>>): Promise<void> {
  await ok(result);
}

export const tauriBackend: Backend = {
  session: () => ok(commands.session()),
  settings: () => ok(commands.settings()),
  setRegion: (region) => done(commands.setRegion(region)),
  register: (server, name, phone, email, password) =>
    ok(commands.register(server, { name, phone: phone || null, email: email || null, password, device_name: null })),
  login: (server, login, password) => ok(commands.login(server, { login, password, device_name: null })),
  logout: () => done(commands.logout()),
  devices: () => ok(commands.devices()),
  carddav: () => ok(commands.carddav()),
  newAppPassword: (label) => ok(commands.newAppPassword(label)),
  revokeAppPassword: (id) => done(commands.revokeAppPassword(id)),
  mySets: (refresh) => ok(commands.mySets(refresh)),
  findCardFrame: (base64) => ok(commands.findCardFrame(base64)),
  readPaperCard: (sides) => ok(commands.readPaperCard(sides)),
  addCard: (card) => ok(commands.addCard(card)),
  saveSet: (setNo, card, printedFields) => ok(commands.saveSet(setNo, card, printedFields)),
  code: (setNo, printed) => ok(commands.code(setNo, printed)),
  rotate: (setNo) => done(commands.rotate(setNo)),
  preview: (text) => ok(commands.preview(text)),
  scanText: (text, giveSet) => ok(commands.scanText(text, giveSet)),
  decodeImage: (base64) => ok(commands.decodeImage(base64)),
  contacts: () => ok(commands.contacts()),
  search: (query) => ok(commands.search(query)),
  contact: (id) => ok(commands.contact(id)),
  cardVersions: (cardId) => ok(commands.cardVersions(cardId)),
  setNote: (id, note) => done(commands.setNote(id, note)),
  setTags: (id, tags) => done(commands.setTags(id, tags)),
  editContact: (id, edit) => done(commands.editContact(id, edit)),
  setPrimaryCard: (id, cardId) => done(commands.setPrimaryCard(id, cardId)),
  acceptCard: (cardId) => done(commands.acceptCard(cardId)),
  deleteContact: (id) => done(commands.deleteContact(id)),
  undeleteContact: (id) => done(commands.undeleteContact(id)),
  unlinkCard: (cardId) => ok(commands.unlinkCard(cardId)),
  pickPictures: (purpose) => ok(commands.pickPictures(purpose)),
  pickCard: () => ok(commands.pickCard()),
  importPicked: () => ok(commands.importPicked()),
  exportPicked: (format, fileName) => ok(commands.exportPicked(format, fileName)),
  saveContact: (id) => ok(commands.saveContact(id)),
  savePicture: (fileName, base64) => ok(commands.savePicture(fileName, base64)),
  share: (item) => done(commands.share(item)),
  presentCode: (on) => done(commands.presentCode(on)),
  displayPhones: (values) => ok(commands.displayPhones(values)),
  sync: () => ok(commands.sync()),
  restore: () => ok(commands.restore()),
  pullInbox: () => ok(commands.pullInbox()),
  openedLink: () => ok(commands.openedLink()),
  onCard: (handler) => events.cardReceived.listen((e) => handler(e.payload)),
  onProgress: (handler) => events.importProgress.listen((e) => handler(e.payload)),
  onLink: (handler) => events.linkOpened.listen((e) => handler(e.payload)),
  open: (url) => openUrl(url),
};

/** Reads bytes as base64 (what the shell's import and scan-from-image take). */
export function bytesToBase64(bytes: Uint8Array): string {
  let binary = "";
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  }
  return btoa(binary);
}

export function base64ToBytes(base64: string): Uint8Array {
  const binary = atob(base64);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** Reads a picked file as base64. */
export async function fileToBase64(file: Blob): Promise<string> {
  return bytesToBase64(new Uint8Array(await file.arrayBuffer()));
}
