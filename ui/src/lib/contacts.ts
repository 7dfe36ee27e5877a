// Saving a contact to the phone's own address book: on phones the share sheet with a .vcf (the
// contacts app is among the targets); on desktop a .vcf saved where the user chooses, to open
// with the system's address book.

import type { Backend, Platform } from "./backend";
import { t } from "./i18n";
import { brief } from "./toast.svelte";

export async function saveToPhoneContacts(backend: Backend, platform: Platform, contactId: string): Promise<void> {
  if (platform === "android" || platform === "ios") await backend.share({ kind: "contact", id: contactId });
  else if (await backend.saveContact(contactId)) brief(t("contact.savedToPhone"));
}
