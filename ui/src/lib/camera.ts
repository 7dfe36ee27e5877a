// One `Camera` for every way this device can look at a card code:
// - `PhoneCamera`: the phone's camera through `tauri-plugin-barcode-scanner`, windowed: the
//   preview runs under the web view, which turns transparent meanwhile (the `camera-under`
//   class on <html>), so our own frame and hint draw over it.
// - `WebcamCamera`: a desktop web view with `getUserMedia`: frames from a <video> decoded by the
//   shell (the same QR reader as pictures).
// - `FakeCamera`: the end-to-end test's stand-in (no camera runs here), switched on only by a
//   debug build of the shell (`MINGPIAN_FAKE_CAMERA`): it answers with the codes the test puts
//   in `window.__mingpianFakeCamera`.
// Where none applies (a desktop web view without a camera) the scan screen offers a picture and
// a pasted link instead.

import {
  Format,
  cancel as cancelScan,
  checkPermissions,
  openAppSettings,
  requestPermissions,
  scan,
  type PermissionState,
} from "@tauri-apps/plugin-barcode-scanner";
import { bytesToBase64, type Backend, type Platform } from "./backend";

export type CameraPermission = "granted" | "denied" | "prompt";

export interface Camera {
  readonly kind: "phone" | "webcam" | "fake";
  /** Whether the camera may be used, without asking. */
  permission(): Promise<CameraPermission>;
  /** Asks the user (the system's prompt), once. */
  request(): Promise<CameraPermission>;
  /** Reads codes until one is found, or `null` after `cancel()`. `video` shows a webcam's
   * preview; the phone draws its own under the web view. */
  scanOne(video?: HTMLVideoElement): Promise<string | null>;
  cancel(): Promise<void>;
  /** The app's page in the system settings (after a denial). */
  openSettings(): Promise<void>;
}

const state = (p: PermissionState): CameraPermission =>
  p === "granted" ? "granted" : p === "denied" ? "denied" : "prompt";

class PhoneCamera implements Camera {
  readonly kind = "phone";
  private cancelled = false;

  async permission() {
    return state(await checkPermissions());
  }

  async request() {
    return state(await requestPermissions());
  }

  async scanOne(): Promise<string | null> {
    this.cancelled = false;
    document.documentElement.classList.add("camera-under");
    try {
      const found = await scan({ windowed: true, formats: [Format.QRCode], cameraDirection: "back" });
      return found.content;
    } catch (e) {
      if (this.cancelled) return null;
      throw e;
    } finally {
      document.documentElement.classList.remove("camera-under");
    }
  }

  async cancel() {
    this.cancelled = true;
    await cancelScan().catch(() => undefined);
  }

  openSettings() {
    return openAppSettings();
  }
}

class WebcamCamera implements Camera {
  readonly kind = "webcam";
  private stream: MediaStream | null = null;
  private stop: (() => void) | null = null;

  constructor(private backend: Backend) {}

  async permission(): Promise<CameraPermission> {
    try {
      const p = await navigator.permissions.query({ name: "camera" as PermissionName });
      return p.state === "granted" ? "granted" : p.state === "denied" ? "denied" : "prompt";
    } catch {
      return "prompt";
    }
  }

  async request(): Promise<CameraPermission> {
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
      return "granted";
    } catch {
      return "denied";
    }
  }

  async scanOne(video?: HTMLVideoElement): Promise<string | null> {
    if (!video) return null;
    this.stream ??= await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
    video.srcObject = this.stream;
    await video.play().catch(() => undefined);
    const canvas = document.createElement("canvas");
    let running = true;
    const done = new Promise<null>((resolve) => (this.stop = () => { running = false; resolve(null); }));
    const look = async (): Promise<string | null> => {
      while (running) {
        await new Promise((r) => setTimeout(r, 300));
        if (!running || video.videoWidth === 0) continue;
        const scale = Math.min(1, 800 / Math.max(video.videoWidth, video.videoHeight));
        canvas.width = Math.round(video.videoWidth * scale);
        canvas.height = Math.round(video.videoHeight * scale);
        canvas.getContext("2d")?.drawImage(video, 0, 0, canvas.width, canvas.height);
        const blob = await new Promise<Blob | null>((r) => canvas.toBlob(r, "image/png"));
        if (!blob) continue;
        const text = await this.backend
          .decodeImage(bytesToBase64(new Uint8Array(await blob.arrayBuffer())))
          .catch(() => null);
        if (text) return text;
      }
      return null;
    };
    try {
      return await Promise.race([look(), done]);
    } finally {
      running = false;
      for (const track of this.stream?.getTracks() ?? []) track.stop();
      this.stream = null;
      video.srcObject = null;
    }
  }

  async cancel() {
    this.stop?.();
  }

  async openSettings() {}
}

/** What the end-to-end test puts on `window` for the fake camera. */
export interface FakeCameraScript {
  permission?: CameraPermission;
  /** Codes the camera "sees", in order. */
  codes: string[];
  /** Set when the user asked for the system settings. */
  openedSettings?: boolean;
}

declare global {
  interface Window {
    __mingpianFakeCamera?: FakeCameraScript;
  }
}

class FakeCamera implements Camera {
  readonly kind = "fake";
  private cancelled = false;

  private script(): FakeCameraScript {
    return (window.__mingpianFakeCamera ??= { codes: [] });
  }

  async permission() {
    return this.script().permission ?? "granted";
  }

  async request() {
    return this.script().permission ?? "granted";
  }

  async scanOne(): Promise<string | null> {
    this.cancelled = false;
    document.documentElement.classList.add("camera-under", "camera-fake");
    try {
      for (;;) {
        if (this.cancelled) return null;
        const code = this.script().codes.shift();
        if (code) return code;
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      document.documentElement.classList.remove("camera-under", "camera-fake");
    }
  }

  async cancel() {
    this.cancelled = true;
  }

  async openSettings() {
    this.script().openedSettings = true;
  }
}

/** The camera this device has, if any. */
export function cameraFor(platform: Platform, fake: boolean, backend: Backend): Camera | null {
  if (fake) return new FakeCamera();
  if (platform === "android" || platform === "ios") return new PhoneCamera();
  if (typeof navigator.mediaDevices?.getUserMedia === "function") return new WebcamCamera(backend);
  return null;
}
