// The user's code as a picture to save or send: white, the fixed code large, the name and
// company under it (drawn by the web view, so Chinese names use the system's fonts).

import type { Card } from "./backend";

export async function codePicture(svg: string, card: Card): Promise<string> {
  const W = 1080, H = 1320, QR = 880;
  const canvas = document.createElement("canvas");
  canvas.width = W;
  canvas.height = H;
  const g = canvas.getContext("2d");
  if (!g) throw new Error("no 2D canvas");
  g.fillStyle = "#fff";
  g.fillRect(0, 0, W, H);
  const img = new Image();
  img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
  await img.decode();
  g.imageSmoothingEnabled = false;
  g.drawImage(img, (W - QR) / 2, 80, QR, QR);
  const font = 'system-ui, -apple-system, "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif';
  g.fillStyle = "#17212b";
  g.textAlign = "center";
  g.font = `600 64px ${font}`;
  g.fillText(card.formatted_name, W / 2, 1070, W - 80);
  const sub = [card.title, card.org].filter(Boolean).join(" · ");
  if (sub) {
    g.fillStyle = "#4b5866";
    g.font = `40px ${font}`;
    g.fillText(sub, W / 2, 1140, W - 80);
  }
  const url = canvas.toDataURL("image/png");
  return url.slice(url.indexOf(",") + 1);
}
