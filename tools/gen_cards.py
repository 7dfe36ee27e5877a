"""Renders business cards and photographs them badly, for testing the paper-card reader.

    python3 tools/gen_cards.py OUT_DIR [COUNT] [SEED]

Writes OUT_DIR/card-NNN.jpg (a photo-like picture of a card: perspective, rotation, blur, noise,
uneven light, on a table; three in ten taken sideways or upside down) and OUT_DIR/card-NNN.json
(the fields printed on it, the card's corners in the photo and how far the photo is turned). Cards are Chinese,
English or bilingual, in four layouts (left-aligned, centred, split, and a vertical Chinese name),
with real fonts (Noto CJK, DejaVu). Deterministic for a seed. Output is not kept in git.
"""
import json
import math
import os
import random
import sys

from PIL import Image, ImageDraw, ImageFilter, ImageFont

CJK_SANS = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
CJK_BOLD = "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"
CJK_SERIF = "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"
LATIN = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed.ttf",
]

SURNAMES = ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "林", "罗", "高"]
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明", "超", "秀英", "晓东", "建华", "雪梅", "志强", "海燕"]
PINYIN = {"王": "Wang", "李": "Li", "张": "Zhang", "刘": "Liu", "陈": "Chen", "杨": "Yang", "黄": "Huang", "赵": "Zhao", "吴": "Wu", "周": "Zhou", "徐": "Xu", "孙": "Sun", "马": "Ma", "朱": "Zhu", "胡": "Hu", "郭": "Guo", "何": "He", "林": "Lin", "罗": "Luo", "高": "Gao",
          "伟": "Wei", "芳": "Fang", "娜": "Na", "敏": "Min", "静": "Jing", "丽": "Li", "强": "Qiang", "磊": "Lei", "军": "Jun", "洋": "Yang", "勇": "Yong", "艳": "Yan", "杰": "Jie", "涛": "Tao", "明": "Ming", "超": "Chao", "秀英": "Xiuying", "晓东": "Xiaodong", "建华": "Jianhua", "雪梅": "Xuemei", "志强": "Zhiqiang", "海燕": "Haiyan"}
FIRST = ["James", "Mary", "Robert", "Linda", "Michael", "Sarah", "David", "Emma", "Daniel", "Olivia", "Thomas", "Sophie", "Peter", "Anna", "Lucas", "Grace"]
LAST = ["Smith", "Johnson", "Brown", "Miller", "Davis", "Wilson", "Taylor", "Clark", "Walker", "Young", "Turner", "Parker", "Evans", "Morgan"]
ZH_ORGS = [("华为技术有限公司", "huawei"), ("深圳市腾讯计算机系统有限公司", "tencent"), ("北京字节跳动科技有限公司", "bytedance"), ("上海名片科技有限公司", "mingpian"), ("杭州云端数据有限公司", "yunduan"), ("广州远航贸易集团", "yuanhang")]
EN_ORGS = [("Acme Corporation", "acme"), ("Globex Ltd", "globex"), ("Initech Inc.", "initech"), ("Northwind Trading Company", "northwind"), ("Contoso Group", "contoso"), ("Blue River Consulting", "blueriver")]
ZH_TITLES = ["总经理", "产品经理", "销售总监", "高级工程师", "市场部经理", "首席技术官", "财务总监", "项目经理"]
EN_TITLES = ["Sales Director", "Product Manager", "Senior Engineer", "Marketing Manager", "Chief Executive Officer", "Project Manager", "Business Consultant"]
ZH_DEPTS = ["市场部", "研发中心", "销售部", "国际业务部"]
EN_DEPTS = ["Marketing Department", "Research Division", "Sales Department"]
ZH_ADDR = ["北京市海淀区中关村大街{n}号", "上海市浦东新区世纪大道{n}号", "深圳市南山区科技园路{n}号", "广州市天河区体育西路{n}号", "杭州市西湖区文三路{n}号"]
EN_ADDR = ["{n} Main Street, Springfield, IL 62701", "{n} Market Street, San Francisco, CA 94105", "{n} King Street, London W1 2AB", "{n} Queen Road, Central, Hong Kong"]


def font(path, size, index=0):
    return ImageFont.truetype(path, size, index=index)


def mobile_cn(rng):
    return "1%d%d %04d %04d" % (rng.choice([3, 5, 8]), rng.randint(0, 9), rng.randint(0, 9999), rng.randint(0, 9999))


def office_cn(rng):
    return "0%d-%04d %04d" % (rng.choice([10, 21, 755, 20, 571]), rng.randint(1000, 9999), rng.randint(0, 9999))


def phone_us(rng):
    return "+1 (%03d) %03d-%04d" % (rng.randint(201, 989), rng.randint(200, 999), rng.randint(0, 9999))


def make_fields(rng, lang):
    """The fields of one card, and the lines to print (label, text, role)."""
    f = {"language": lang}
    if lang in ("zh", "bi"):
        sur, giv = rng.choice(SURNAMES), rng.choice(GIVEN)
        f["name"] = sur + giv
        if lang == "bi":
            f["name_en"] = "%s %s" % (PINYIN[giv], PINYIN[sur])
        org, dom = rng.choice(ZH_ORGS)
        f["company"] = org
        f["title"] = rng.choice(ZH_TITLES)
        if rng.random() < 0.5:
            f["department"] = rng.choice(ZH_DEPTS)
        f["mobile"] = mobile_cn(rng)
        if rng.random() < 0.7:
            f["work_phone"] = office_cn(rng)
        if rng.random() < 0.3:
            f["fax"] = office_cn(rng)
        f["email"] = "%s.%s@%s.com" % (PINYIN[giv].lower(), PINYIN[sur].lower(), dom)
        if rng.random() < 0.6:
            f["website"] = "www.%s.com" % dom
        f["address"] = rng.choice(ZH_ADDR).format(n=rng.randint(1, 999))
        if rng.random() < 0.3:
            f["wechat"] = "%s%s_%d" % (PINYIN[sur].lower(), PINYIN[giv].lower(), rng.randint(10, 99))
    else:
        first, last = rng.choice(FIRST), rng.choice(LAST)
        f["name"] = "%s %s" % (first, last)
        org, dom = rng.choice(EN_ORGS)
        f["company"] = org
        f["title"] = rng.choice(EN_TITLES)
        if rng.random() < 0.4:
            f["department"] = rng.choice(EN_DEPTS)
        f["mobile"] = phone_us(rng)
        if rng.random() < 0.7:
            f["work_phone"] = phone_us(rng)
        if rng.random() < 0.3:
            f["fax"] = phone_us(rng)
        f["email"] = "%s.%s@%s.com" % (first.lower(), last.lower(), dom)
        if rng.random() < 0.7:
            f["website"] = "www.%s.com" % dom
        f["address"] = rng.choice(EN_ADDR).format(n=rng.randint(1, 999))
    zh = lang in ("zh", "bi")
    labels = {
        "mobile": ("手机：", "Mobile: ", "M: "), "work_phone": ("电话：", "Tel: ", "T: "), "fax": ("传真：", "Fax: ", "F: "),
        "email": ("邮箱：", "Email: ", ""), "website": ("网址：", "Web: ", ""), "address": ("地址：", "", ""), "wechat": ("微信：", "WeChat: ", ""),
    }
    style = rng.randint(0, 2)
    contact = []
    for key in ("mobile", "work_phone", "fax", "email", "website", "wechat", "address"):
        if key in f:
            zh_label, en_label, short = labels[key]
            label = zh_label if zh else (en_label if style < 2 else short)
            if key in ("email", "website") and rng.random() < 0.5:
                label = ""
            contact.append((label + f[key], key))
    return f, contact


def render(rng, f, contact, layout):
    w, h = 1050, 600
    bg = rng.choice([(255, 255, 255), (250, 247, 240), (240, 244, 250), (32, 45, 70)])
    dark_card = sum(bg) < 300
    ink = (245, 245, 245) if dark_card else (20, 24, 30)
    accent = rng.choice([(240, 190, 90), (140, 200, 255)]) if dark_card else rng.choice([(200, 16, 46), (15, 80, 140), (40, 120, 70), (120, 90, 20)])
    img = Image.new("RGB", (w, h), bg)
    d = ImageDraw.Draw(img)
    zh = f["language"] in ("zh", "bi")
    name_font = font(CJK_BOLD, rng.randint(52, 66)) if zh else font(rng.choice(LATIN), rng.randint(44, 54))
    body_path = rng.choice([CJK_SANS, CJK_SERIF]) if zh else rng.choice(LATIN)
    body = font(body_path, rng.randint(24, 28))
    small = font(body_path, rng.randint(22, 25))
    d.rectangle([0, 0, w, 14], fill=accent)
    if layout == "vertical" and zh:
        # The name and title top to bottom on the right, contacts horizontal on the left.
        x, y = w - 110, 60
        for ch in f["name"]:
            d.text((x, y), ch, font=name_font, fill=ink)
            y += name_font.size + 6
        tx, ty = w - 170, 70
        for ch in f["title"]:
            d.text((tx, ty), ch, font=small, fill=accent)
            ty += small.size + 4
        y = 70
        d.text((60, y), f["company"], font=body, fill=accent)
        y += 56
        if "department" in f:
            d.text((60, y), f["department"], font=small, fill=ink)
            y += 44
        for text, _ in contact:
            d.text((60, y), text, font=small, fill=ink)
            y += small.size + 16
        if "name_en" in f:
            d.text((60, h - 60), f["name_en"], font=small, fill=ink)
        return img
    lines = [(f["company"], body, accent)]
    lines.append((f["name"], name_font, ink))
    if "name_en" in f:
        lines.append((f["name_en"], small, ink))
    lines.append((f["title"], body, ink))
    if "department" in f:
        lines.append((f["department"], small, ink))
    if layout == "split":
        x, y = 60, 70
        for text, fnt, color in lines:
            d.text((x, y), text, font=fnt, fill=color)
            y += fnt.size + 22
        y = h - 40 - len(contact) * (small.size + 14)
        for text, _ in contact:
            tw = d.textlength(text, font=small)
            d.text((max(420, w - 50 - tw), y), text, font=small, fill=ink)
            y += small.size + 14
        return img
    y = 50
    for text, fnt, color in lines + [(t, small, ink) for t, _ in contact]:
        tw = d.textlength(text, font=fnt)
        x = (w - tw) / 2 if layout == "center" else 70
        if tw > w - 80:
            fnt = font(body_path, max(16, int(fnt.size * (w - 80) / tw)))
            tw = d.textlength(text, font=fnt)
            x = (w - tw) / 2 if layout == "center" else 40
        d.text((x, y), text, font=fnt, fill=color)
        y += fnt.size + (18 if fnt is not small else 12)
    return img


def solve(a, b):
    """Gaussian elimination for the 8×8 perspective system."""
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for c in range(n):
        p = max(range(c, n), key=lambda r: abs(m[r][c]))
        m[c], m[p] = m[p], m[c]
        for r in range(n):
            if r != c:
                k = m[r][c] / m[c][c]
                for j in range(c, n + 1):
                    m[r][j] -= k * m[c][j]
    return [m[i][n] / m[i][i] for i in range(n)]


def perspective_coeffs(src, dst):
    """Coefficients mapping output points `dst` back to input points `src` (what PIL wants)."""
    a, b = [], []
    for (x, y), (u, v) in zip(dst, src):
        a.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        b.append(u)
        a.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        b.append(v)
    return solve(a, b)


def photograph(rng, card):
    """Puts the card on a table, seen from an angle, slightly out of focus, in uneven light."""
    cw, ch = card.size
    W, H = 1400, 1000
    table = Image.new("RGB", (W, H), rng.choice([(120, 100, 80), (70, 70, 75), (180, 170, 150), (40, 60, 50)]))
    scale = rng.uniform(0.8, 1.05)
    cx, cy = W / 2 + rng.uniform(-60, 60), H / 2 + rng.uniform(-40, 40)
    angle = math.radians(rng.uniform(-8, 8))
    corners = []
    for (px, py) in [(0, 0), (cw, 0), (cw, ch), (0, ch)]:
        x, y = (px - cw / 2) * scale, (py - ch / 2) * scale
        x, y = x * math.cos(angle) - y * math.sin(angle), x * math.sin(angle) + y * math.cos(angle)
        # Seen from an angle: each corner moves a little on its own.
        corners.append((cx + x + rng.uniform(-35, 35), cy + y + rng.uniform(-25, 25)))
    coeffs = perspective_coeffs([(0, 0), (cw, 0), (cw, ch), (0, ch)], corners)
    warped = card.transform((W, H), Image.PERSPECTIVE, coeffs, Image.BICUBIC)
    mask = Image.new("L", card.size, 255).transform((W, H), Image.PERSPECTIVE, coeffs, Image.BICUBIC)
    table.paste(warped, (0, 0), mask)
    # Uneven light: a soft gradient from one side.
    big = Image.linear_gradient("L").resize((2 * W, 2 * H), Image.BILINEAR)
    big = big.rotate(rng.uniform(0, 360), resample=Image.BICUBIC, fillcolor=128)
    light = big.crop((W // 2, H // 2, W // 2 + W, H // 2 + H)).filter(ImageFilter.GaussianBlur(8))
    dark = Image.new("RGB", (W, H), (0, 0, 0))
    table = Image.composite(table, dark, light.point(lambda v: int(255 - v * rng.uniform(0.15, 0.4))))
    table = table.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.3)))
    noise = Image.effect_noise((W, H), rng.uniform(6, 16)).convert("RGB")
    table = Image.blend(table, noise, rng.uniform(0.03, 0.08))
    return table, corners


def turn(photo, corners, degrees):
    """The photo as taken with the phone held sideways or upside down (clockwise degrees)."""
    W, H = photo.size
    if degrees == 90:
        return photo.transpose(Image.ROTATE_270), [(H - y, x) for x, y in corners]
    if degrees == 180:
        return photo.transpose(Image.ROTATE_180), [(W - x, H - y) for x, y in corners]
    if degrees == 270:
        return photo.transpose(Image.ROTATE_90), [(y, W - x) for x, y in corners]
    return photo, corners


def main():
    out = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 2026
    rng = random.Random(seed)
    os.makedirs(out, exist_ok=True)
    for i in range(count):
        lang = ["zh", "en", "bi"][i % 3]
        layout = ["left", "center", "split", "vertical"][(i // 3) % 4]
        if layout == "vertical" and lang == "en":
            layout = "left"
        fields, contact = make_fields(rng, lang)
        fields["layout"] = layout
        photo, corners = photograph(rng, render(rng, fields, contact, layout))
        # Every tenth photo upside down, and one in ten turned a quarter either way.
        degrees = {4: 180, 7: 90, 9: 270}.get(i % 10, 0)
        photo, corners = turn(photo, corners, degrees)
        # Where the card's printed top-left, top-right, bottom-right and bottom-left corners are.
        fields["corners"] = [[round(x, 1), round(y, 1)] for x, y in corners]
        fields["turned"] = degrees
        photo.save(os.path.join(out, "card-%03d.jpg" % i), quality=rng.randint(70, 90))
        with open(os.path.join(out, "card-%03d.json" % i), "w", encoding="utf-8") as fh:
            json.dump(fields, fh, ensure_ascii=False, indent=1)
    print("wrote %d cards to %s" % (count, out))


if __name__ == "__main__":
    main()
